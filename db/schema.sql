-- The schema of a freshly migrated voxbook database: db/migrations and db/functions applied by
-- `voxbook db migrate`. Generated, do not edit: python -m voxbook.schema_snapshot > db/schema.sql
-- (tests/test_schema_snapshot.py fails when it is stale).

-- Name: api; Type: SCHEMA; Schema: -; Owner: -

CREATE SCHEMA api;

-- Name: SCHEMA api; Type: COMMENT; Schema: -; Owner: -

COMMENT ON SCHEMA api IS 'The voxbook booking API: every function here is callable from psql and, through role voxbook_api, by the HTTP layer and the SMS worker. See db/README.md for the flow, jsonb shapes and SQLSTATEs.';

-- Name: internal; Type: SCHEMA; Schema: -; Owner: -

CREATE SCHEMA internal;

-- Name: SCHEMA internal; Type: COMMENT; Schema: -; Owner: -

COMMENT ON SCHEMA internal IS 'Helpers of the api functions (db/functions), rebuilt on every voxbook db migrate; granted to nobody: they run with the rights of the api function calling them.';

-- Name: voxbook; Type: SCHEMA; Schema: -; Owner: -

CREATE SCHEMA voxbook;

-- Name: SCHEMA voxbook; Type: COMMENT; Schema: -; Owner: -

COMMENT ON SCHEMA voxbook IS 'Private tables of voxbook and the few functions they depend on, made by the migrations. Nothing here is granted to the API role: call the functions in schema api (their helpers are in schema internal).';

-- Name: btree_gist; Type: EXTENSION; Schema: -; Owner: -

CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

-- Name: EXTENSION btree_gist; Type: COMMENT; Schema: -; Owner: -

COMMENT ON EXTENSION btree_gist IS 'support for indexing common datatypes in GiST';

-- Name: pgcrypto; Type: EXTENSION; Schema: -; Owner: -

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;

-- Name: EXTENSION pgcrypto; Type: COMMENT; Schema: -; Owner: -

COMMENT ON EXTENSION pgcrypto IS 'cryptographic functions';

-- Name: e164; Type: DOMAIN; Schema: voxbook; Owner: -

CREATE DOMAIN voxbook.e164 AS text
	CONSTRAINT e164_check CHECK ((VALUE ~ '^\+[1-9][0-9]{7,14}$'::text));

-- Name: accept_staff_invite(text, text, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.accept_staff_invite(token text, password_hash text, session_hours integer DEFAULT 12) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $_$
DECLARE
    f record;
    s voxbook.staff_accounts;
    before jsonb;
    now_ts timestamptz := internal.clock();
BEGIN
    IF password_hash IS NULL OR password_hash NOT LIKE '$argon2id$%' OR length(password_hash) > 512 THEN
        -- Never the value in the message: it could be a password pasted by mistake.
        PERFORM internal.fail('VB400', 'password_hash must be an argon2id hash',
                              'Hash the password in the api layer (api/dashboard_auth.py hash_password).');
    END IF;
    f := internal.find_invite(token, true);   -- locked: of two browsers accepting at once, one wins
    IF f.refused IS NOT NULL THEN
        RETURN f.refused;
    END IF;
    UPDATE voxbook.staff_invites AS x SET used_at = now_ts
     WHERE x.org_id = (f.inv).org_id AND x.id = (f.inv).id;
    s := internal.require_staff((f.inv).org_id, (f.inv).staff_id);
    before := internal.staff_json(s);
    UPDATE voxbook.staff_accounts AS x
       SET status = 'active', password_hash = accept_staff_invite.password_hash, updated_at = now_ts
     WHERE x.org_id = s.org_id AND x.id = s.id
    RETURNING x.* INTO s;
    PERFORM internal.audit(s.org_id, s.name, 'accept_staff_invite', 'staff_account', s.id::text, before,
                           internal.staff_json(s));
    RETURN internal.open_session(s, session_hours);
END
$_$;

-- Name: FUNCTION accept_staff_invite(token text, password_hash text, session_hours integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.accept_staff_invite(token text, password_hash text, session_hours integer) IS 'Uses an invite link once: the account becomes active with the argon2id hash the api layer made of the
chosen password, and is signed in: {"success": true, "session", "org_id", "clinic", "staff_id", "name",
"role", "expires_at"} or {"success": false, "code": "invalid_invite" | "invite_used" | "invite_expired",
"error"}. Audited in the person''s name. Errors: VB400 password_hash not an argon2id hash; session_hours
outside 1-168.';

-- Name: apply_calendar_import(uuid, uuid, text, jsonb, jsonb, boolean, text, text, timestamp with time zone); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.apply_calendar_import(org_id uuid, connection_id uuid, worker_id text, changed jsonb, deleted_hrefs jsonb DEFAULT '[]'::jsonb, full_read boolean DEFAULT false, sync_token text DEFAULT NULL::text, ctag text DEFAULT NULL::text, expanded_until timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    cc voxbook.calendar_connections;
    now_ts timestamptz := internal.clock();
    ev jsonb;
    occ jsonb;
    s timestamptz;
    e timestamptz;
    hrefs text[] := '{}';
    new_ids bigint[] := '{}';
    new_id bigint;
    inserted int := 0;
    removed int := 0;
    skipped int := 0;
    n int;
    releasing jsonb := '[]';
    conflicts jsonb := '[]';
    r record;
BEGIN
    PERFORM internal.require(worker_id, 'worker_id');
    IF changed IS NULL OR jsonb_typeof(changed) <> 'array' OR jsonb_typeof(coalesce(deleted_hrefs, '[]')) <> 'array' THEN
        PERFORM internal.fail('VB400', 'changed and deleted_hrefs must be JSON arrays',
                              'changed: [{"href", "etag", "uid", "occurrences": [{"starts_at", "ends_at", "recurrence_id"}]}]; deleted_hrefs: ["..."].');
    END IF;
    IF jsonb_array_length(changed) > 20000 OR jsonb_array_length(coalesce(deleted_hrefs, '[]')) > 20000
       OR length(sync_token) > 4000 OR length(ctag) > 1000 THEN
        PERFORM internal.fail('VB400', 'import too large', 'Send at most 20000 changed and 20000 deleted events per call.');
    END IF;
    -- One calendar's server decides what is in it: its busy time is bounded (50000 rows per connection, far above
    -- any person's calendar over a booking horizon), checked before anything is written and again after.
    IF (SELECT sum(CASE WHEN jsonb_typeof(x -> 'occurrences') = 'array' THEN jsonb_array_length(x -> 'occurrences') END)
          FROM jsonb_array_elements(changed) AS x) > 50000 THEN
        PERFORM internal.fail('VB400', 'too much busy time', 'At most 50000 busy occurrences per calendar.');
    END IF;
    PERFORM internal.require_instant(expanded_until, 'expanded_until', optional => true);
    cc := internal.connection_by_id(o.id, connection_id, lock => false);
    -- The lock block_time and every claim take, before anything is read: an import and a concurrent claim of
    -- the same time cannot both win (the claim waits, then sees the block; or the import waits, then finds
    -- the appointment and reports the conflict).
    PERFORM internal.setup_calendar(o.id, cc.calendar_id, lock => true);
    cc := internal.connection_by_id(o.id, connection_id, lock => true);
    IF cc.locked_by IS DISTINCT FROM worker_id OR cc.lease_until < now_ts THEN
        -- Another worker took the calendar over: its newer state must not be overwritten with this older one.
        RETURN internal.refusal('not_held', 'this worker no longer holds the connection');
    END IF;

    SELECT coalesce(array_agg(DISTINCT h), '{}') INTO hrefs
      FROM (SELECT x ->> 'href' AS h FROM jsonb_array_elements(changed) AS x
            UNION ALL SELECT x #>> '{}' FROM jsonb_array_elements(coalesce(deleted_hrefs, '[]')) AS x) AS t
     WHERE h IS NOT NULL;
    IF coalesce(full_read, false) THEN
        DELETE FROM voxbook.blocked_periods AS b WHERE b.org_id = o.id AND b.connection_id = cc.id;
    ELSE
        DELETE FROM voxbook.blocked_periods AS b
         WHERE b.org_id = o.id AND b.connection_id = cc.id AND b.event_href = ANY (hrefs);
    END IF;
    GET DIAGNOSTICS removed = ROW_COUNT;

    FOR ev IN SELECT x FROM jsonb_array_elements(changed) AS x LOOP
        IF jsonb_typeof(ev) <> 'object' OR jsonb_typeof(ev -> 'href') <> 'string' OR length(ev ->> 'href') > 2500
           OR length(ev ->> 'uid') > 1000 OR length(ev ->> 'etag') > 500
           OR jsonb_typeof(coalesce(ev -> 'occurrences', '[]')) <> 'array' THEN
            PERFORM internal.fail('VB400', 'a changed event is malformed',
                                  'Each is {"href", "etag", "uid", "occurrences": [{"starts_at", "ends_at", "recurrence_id"}]}.');
        END IF;
        FOR occ IN SELECT x FROM jsonb_array_elements(coalesce(ev -> 'occurrences', '[]')) AS x LOOP
            BEGIN
                s := (occ ->> 'starts_at')::timestamptz;
                e := (occ ->> 'ends_at')::timestamptz;
            EXCEPTION WHEN data_exception THEN
                s := NULL;
            END;
            -- Data from another server: an occurrence that is no time range we could block is skipped, counted.
            IF s IS NULL OR e IS NULL OR e <= s OR NOT internal.in_time_range(s) OR NOT internal.in_time_range(e)
               OR length(occ ->> 'recurrence_id') > 100 THEN
                skipped := skipped + 1;
                CONTINUE;
            END IF;
            INSERT INTO voxbook.blocked_periods AS b (org_id, calendar_id, during, reason, created_by, created_at, source,
                                                      connection_id, event_uid, event_recurrence_id, event_href, event_etag)
            VALUES (o.id, cc.calendar_id, tstzrange(s, e, '[)'), 'busy in the provider''s calendar', 'caldav', now_ts,
                    'caldav', cc.id, left(ev ->> 'uid', 1000), occ ->> 'recurrence_id', ev ->> 'href', ev ->> 'etag')
            RETURNING b.id INTO new_id;
            new_ids := new_ids || new_id;
            inserted := inserted + 1;
        END LOOP;
    END LOOP;

    IF cardinality(new_ids) > 0 THEN
        -- Live holds on the new busy time are released (their callers cannot confirm), as block_time does;
        -- confirmed appointments stay booked and are reported as conflicts (api.list_calendar_conflicts).
        FOR r IN
            SELECT x.id, x.status, a.id AS appointment_id, x.starts_at, x.ends_at
              FROM voxbook.holds AS x
              LEFT JOIN voxbook.appointments AS a ON a.org_id = x.org_id AND a.hold_id = x.id AND a.status = 'confirmed'
             WHERE x.org_id = o.id AND x.calendar_id = cc.calendar_id
               AND (x.status = 'confirmed' OR x.status = 'held' AND x.expires_at > now_ts)
               AND EXISTS (SELECT 1 FROM voxbook.blocked_periods AS b
                            WHERE b.org_id = o.id AND b.id = ANY (new_ids)
                              AND b.during && tstzrange(x.starts_at, x.ends_at, '[)'))
             ORDER BY x.starts_at, x.id
        LOOP
            IF r.status = 'held' THEN
                releasing := releasing || jsonb_build_array(jsonb_build_object('hold_id', r.id));
            ELSIF r.appointment_id IS NOT NULL THEN
                conflicts := conflicts || jsonb_build_array(jsonb_build_object(
                    'appointment_id', r.appointment_id, 'starts_at', internal.utc_iso(r.starts_at),
                    'ends_at', internal.utc_iso(r.ends_at)));
            END IF;
        END LOOP;
        PERFORM internal.release_listed_holds(o.id, jsonb_build_object('holds', releasing), 'busy in the provider''s calendar');
    END IF;

    SELECT count(*) INTO n FROM voxbook.blocked_periods AS b WHERE b.org_id = o.id AND b.connection_id = cc.id;
    IF n > 50000 THEN
        PERFORM internal.fail('VB400', 'too much busy time', 'At most 50000 busy occurrences per calendar.');
    END IF;
    UPDATE voxbook.calendar_connections AS x
       SET sync_token = apply_calendar_import.sync_token, ctag = apply_calendar_import.ctag,
           expanded_until = coalesce(apply_calendar_import.expanded_until, x.expanded_until),
           last_full_sync_at = CASE WHEN coalesce(full_read, false) THEN now_ts ELSE x.last_full_sync_at END,
           busy_imported = n, updated_at = now_ts
     WHERE x.org_id = o.id AND x.id = cc.id;
    RETURN jsonb_build_object('success', true, 'inserted', inserted, 'removed', removed, 'skipped', skipped,
                              'busy_imported', n, 'released_holds', jsonb_array_length(releasing),
                              'conflicts', conflicts);
END
$$;

-- Name: FUNCTION apply_calendar_import(org_id uuid, connection_id uuid, worker_id text, changed jsonb, deleted_hrefs jsonb, full_read boolean, sync_token text, ctag text, expanded_until timestamp with time zone); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.apply_calendar_import(org_id uuid, connection_id uuid, worker_id text, changed jsonb, deleted_hrefs jsonb, full_read boolean, sync_token text, ctag text, expanded_until timestamp with time zone) IS 'For the calendar sync worker: applies what it read from a connection''s calendar as blocks of the provider''s time
(voxbook.blocked_periods, source ''caldav''), so availability and claims honour it exactly like api.block_time.
changed: the events added or changed, each {"href", "etag", "uid", "occurrences": [{"starts_at", "ends_at",
"recurrence_id"}]} (busy occurrences only, recurring events expanded over the window, all-day events in the
clinic''s zone, UTC instants): each replaces what its href had; deleted_hrefs: events removed there; full_read:
changed is the whole calendar (everything else imported before goes). sync_token, ctag and expanded_until are
stored for the next round. Takes the provider''s calendar lock first, as block_time and every claim do: of an
import and a claim of the same time one waits for the other. Live holds on new busy time are released; confirmed
appointments stay booked and are returned in "conflicts" (and listed by api.list_calendar_conflicts).
Occurrences that are no usable time range (inverted, out of range) are skipped and counted.
Returns {"success": true, "inserted", "removed", "skipped", "busy_imported" (the connection''s blocks now),
"released_holds", "conflicts": [{"appointment_id", "starts_at", "ends_at"}]}, or {"success": false, "code":
"not_held"} when this worker''s claim has passed to another (nothing changed).
Errors: VB404 unknown org or connection; VB400 worker_id missing, changed/deleted_hrefs not arrays or over 20000,
over 50000 occurrences in changed or imported for the connection in all ("too much busy time": nothing changes),
a malformed event, sync_token/ctag too long, expanded_until out of range.
Example: SELECT api.apply_calendar_import(:org, :conn, ''host:1'',
''[{"href": "/cal/a.ics", "etag": "\"1\"", "uid": "a", "occurrences": [{"starts_at": "2026-12-01T15:00:00Z", "ends_at": "2026-12-01T16:00:00Z"}]}]'');';

-- Name: begin_sms_send(uuid, uuid, text, integer, double precision); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.begin_sms_send(org_id uuid, message_id uuid, worker_id text, attempt integer, lease_seconds double precision) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_custom_plan'
    AS $$
DECLARE
    m voxbook.sms_outbox;
    now_ts timestamptz := internal.clock();
    reason text;
BEGIN
    PERFORM internal.require(org_id, 'org_id');
    PERFORM internal.require(message_id, 'message_id');
    PERFORM internal.require(worker_id, 'worker_id');
    PERFORM internal.require(attempt, 'attempt');
    IF lease_seconds IS NULL OR lease_seconds <= 0 OR lease_seconds > 3600 THEN
        PERFORM internal.fail('VB400', 'lease_seconds must be more than 0 and at most 3600',
                              'Pass the longest the send can take: the provider requests'' timeouts and a margin.');
    END IF;
    SELECT * INTO m FROM voxbook.sms_outbox AS x
     WHERE x.org_id = begin_sms_send.org_id AND x.id = begin_sms_send.message_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown message', 'Use message_id and org_id from api.claim_sms_batch.');
    END IF;
    -- Still ours: claimed by this worker for this attempt and not taken back. The row lock serialises this
    -- with a takeover in api.claim_sms_batch: either that came first (we refuse) or this renews the lease
    -- first, and no one takes the row before the send is over. An expired lease that nobody took over yet
    -- is still ours alone.
    IF m.status <> 'sending' OR m.locked_by IS DISTINCT FROM begin_sms_send.worker_id
       OR m.attempts <> begin_sms_send.attempt - 1 THEN
        RETURN internal.refusal('not_held', 'The message is no longer claimed by this worker: do not send it',
                                jsonb_build_object('message_id', m.id, 'status', m.status));
    END IF;
    reason := internal.sms_block_reason(m, now_ts);
    IF reason IS NOT NULL AND NOT m.provider_may_have THEN
        -- It became unsendable while it waited in the worker (a STOP, a released hold, a cancellation).
        m := internal.settle_blocked_sms(m, reason);
        RETURN internal.refusal('blocked', 'The message must not go out any more',
                                jsonb_build_object('message_id', m.id, 'status', m.status, 'reason', reason));
    END IF;
    IF reason IS NULL AND m.attempts >= m.max_attempts THEN
        reason := format('no attempts left (%s)', m.max_attempts);
    END IF;
    UPDATE voxbook.sms_outbox AS x
       SET attempts = begin_sms_send.attempt, provider_may_have = true,
           first_attempt_at = coalesce(x.first_attempt_at, now_ts),
           lease_until = now_ts + make_interval(secs => lease_seconds), updated_at = now()
     WHERE x.org_id = m.org_id AND x.id = m.id
    RETURNING x.* INTO m;
    RETURN jsonb_build_object('success', true, 'message_id', m.id, 'attempt', m.attempts,
                              'lease_until', internal.utc_iso(m.lease_until),
                              'resend', reason IS NULL, 'resend_blocked', reason);
END
$$;

-- Name: FUNCTION begin_sms_send(org_id uuid, message_id uuid, worker_id text, attempt integer, lease_seconds double precision); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.begin_sms_send(org_id uuid, message_id uuid, worker_id text, attempt integer, lease_seconds double precision) IS 'The worker''s last step before it hands a claimed message to the provider (or looks an unknown one up
there). Succeeds only while the row is still this worker''s claim for this attempt (status ''sending'',
locked_by = worker_id, attempt as returned by api.claim_sms_batch); then it counts the attempt, marks that the
provider may have the message from now on, and renews the lease to lease_seconds from now, which must cover
the whole send (every request''s timeout, and a lookup first when reconciling) so that no other worker takes
the row over while the send may still happen. A fresh message that may no longer go out is settled
(skipped/cancelled/failed) instead. Returns {"success": true, "message_id", "attempt", "lease_until",
"resend" (an unknown one may be sent again if the provider lacks it), "resend_blocked"} or
{"success": false, "code": "not_held" | "blocked", "message_id", "status", "reason"}: do not send.
Errors: VB400 missing argument or lease_seconds outside (0, 3600]; VB404 unknown message.
Example: SELECT api.begin_sms_send(''<org_id>'', ''<message_id>'', ''host-1:4242'', 1, 25);';

-- Name: block_local_time(uuid, text, date, time without time zone, time without time zone, text, boolean, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.block_local_time(org_id uuid, calendar_id text, on_date date, from_time time without time zone DEFAULT NULL::time without time zone, to_time time without time zone DEFAULT NULL::time without time zone, reason text DEFAULT NULL::text, proceed boolean DEFAULT false, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
BEGIN
    PERFORM internal.require_date(on_date, 'on_date');
    IF (from_time IS NULL) <> (to_time IS NULL) THEN
        PERFORM internal.fail('VB400', 'give both from_time and to_time, or neither (the whole day)',
                              'e.g. from_time => ''13:00'', to_time => ''17:00''.');
    END IF;
    IF from_time IS NOT NULL AND to_time <= from_time THEN
        PERFORM internal.fail('VB400', 'to_time must be after from_time', 'Local times of one day; 24:00 ends the day.');
    END IF;
    -- Local wall-clock times of the clinic's zone: DST days are 23 or 25 hours, midnight to midnight.
    RETURN api.block_time(o.id, calendar_id,
                          (on_date + coalesce(from_time, time '00:00'))::timestamp AT TIME ZONE o.time_zone,
                          CASE WHEN to_time IS NULL OR to_time = time '24:00'
                               THEN (on_date + 1)::timestamp AT TIME ZONE o.time_zone
                               ELSE (on_date + to_time)::timestamp AT TIME ZONE o.time_zone END,
                          reason, proceed, changed_by);
END
$$;

-- Name: FUNCTION block_local_time(org_id uuid, calendar_id text, on_date date, from_time time without time zone, to_time time without time zone, reason text, proceed boolean, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.block_local_time(org_id uuid, calendar_id text, on_date date, from_time time without time zone, to_time time without time zone, reason text, proceed boolean, changed_by text) IS 'api.block_time by the clinic''s clock: one provider''s (calendar_id) or the whole clinic''s (calendar_id NULL: a
closure) time off on on_date from from_time to to_time, local times of the clinic''s zone; without times the whole
day, local midnight to midnight (so "close the clinic for a day" is calendar_id NULL and no times). Returns what
api.block_time returns, with its errors (VB409 bookings inside unless proceed; audited), and VB400 a missing or
out-of-range date, one time without the other, to_time not after from_time.
Example: SELECT api.block_local_time(:org, ''cal-smith'', ''2026-12-24'', ''13:00'', ''17:00'', ''afternoon off'', changed_by => ''Ana'');
         SELECT api.block_local_time(:org, NULL, ''2026-12-25'', reason => ''Christmas'', changed_by => ''Ana'');';

-- Name: block_time(uuid, text, timestamp with time zone, timestamp with time zone, text, boolean, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.block_time(org_id uuid, calendar_id text, starts timestamp with time zone, ends timestamp with time zone, reason text DEFAULT NULL::text, proceed boolean DEFAULT false, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    c voxbook.calendars;
    span tstzrange;
    affected jsonb;
    b voxbook.blocked_periods;
    created boolean := true;
    now_ts timestamptz := internal.clock();
    who text := internal.changed_by(changed_by);
BEGIN
    PERFORM internal.require_instant(starts, 'starts');
    PERFORM internal.require_instant(ends, 'ends');
    IF ends <= starts THEN
        PERFORM internal.fail('VB400', 'ends must be after starts', 'Give the time off as [starts, ends), e.g. a day: 2026-12-24 00:00 to 2026-12-25 00:00 local.');
    END IF;
    IF ends - starts > interval '366 days' THEN
        PERFORM internal.fail('VB400', 'time off is limited to 366 days', 'Deactivate a provider who leaves (api.deactivate_provider).');
    END IF;
    IF length(reason) > 500 THEN
        PERFORM internal.fail('VB400', 'reason is limited to 500 characters', 'Shorten the reason.');
    END IF;
    span := tstzrange(starts, ends, '[)');
    -- The calendar lock a claim shares, exclusively, before the holds are read (db/README.md "Guarantees").
    IF calendar_id IS NULL THEN
        PERFORM internal.lock_clinic_calendars(o.id);
    ELSE
        c := internal.setup_calendar(o.id, calendar_id, lock => true);
    END IF;
    SELECT * INTO b FROM voxbook.blocked_periods AS x
     WHERE x.org_id = o.id AND x.calendar_id IS NOT DISTINCT FROM c.id AND x.during = span
       AND x.source IS NULL   -- busy time imported from the provider's calendar comes and goes with it
     ORDER BY x.id LIMIT 1;
    IF FOUND THEN   -- the same time off again: idempotent
        created := false;
        affected := internal.bookings_during(o, c.id, span);
    ELSE
        affected := internal.bookings_during(o, c.id, span);
        IF NOT coalesce(proceed, false)
           AND (jsonb_array_length(affected -> 'appointments') > 0 OR jsonb_array_length(affected -> 'holds') > 0) THEN
            PERFORM internal.fail('VB409', 'the time has bookings',
                                  internal.bookings_phrase(affected)
                                  || '. Move them first, or pass proceed => true to block anyway (appointments stay, listed to reschedule).',
                                  internal.bookings_detail(affected));
        END IF;
        INSERT INTO voxbook.blocked_periods AS x (org_id, calendar_id, during, reason, created_by, created_at)
        VALUES (o.id, c.id, span, nullif(btrim(reason), ''), who, now_ts)
        RETURNING x.* INTO b;
        PERFORM internal.release_listed_holds(o.id, affected, 'time blocked');
        PERFORM internal.audit(o.id, changed_by, 'block_time', 'blocked_period', b.id::text, NULL,
                               internal.block_json(b, o.time_zone));
    END IF;
    RETURN jsonb_build_object('success', true, 'created', created, 'block', internal.block_json(b, o.time_zone),
                              'to_reschedule', affected -> 'appointments',
                              'released_holds', CASE WHEN created THEN affected -> 'holds' ELSE '[]'::jsonb END);
END
$$;

-- Name: FUNCTION block_time(org_id uuid, calendar_id text, starts timestamp with time zone, ends timestamp with time zone, reason text, proceed boolean, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.block_time(org_id uuid, calendar_id text, starts timestamp with time zone, ends timestamp with time zone, reason text, proceed boolean, changed_by text) IS 'Blocks time off: no slot overlapping [starts, ends) is offered or claimable. calendar_id: one provider (a
vacation); NULL: the whole clinic (a holiday). Refused (VB409) when confirmed appointments or live holds fall
inside: the HINT says how many and the first three times, the DETAIL is JSON {"appointments": [...], "holds":
[...]} (each {"appointment_id", "hold_id", "status", "calendar_id", "service", "starts_at", "ends_at",
"local_time"}: no patient names in an error; the results list them with "patient_name"). proceed => true blocks anyway: the appointments stay and are returned in
"to_reschedule" (staff decide), live holds are released (their callers cannot confirm). The same block again
(same provider and times) is not made twice ("created": false). Race-safe against claims: it takes the
provider''s calendar lock (a closure: every provider''s) before reading the holds, and claims share it, so a
block and a claim on the same time never both succeed. Recorded in voxbook.audit_log.
Returns {"success": true, "created", "block": {"block_id", "calendar_id", "starts_at", "ends_at",
"local_starts", "local_ends", "reason", "created_by", "source" (null: made by staff; "caldav": busy time from the provider''s calendar)}, "to_reschedule": [...], "released_holds": [...]}.
Errors: VB404 unknown org or calendar; VB400 starts/ends missing or out of range, ends not after starts, over 366
days, reason over 500 characters; VB409 bookings inside (without proceed).
Example: SELECT api.block_time(:org, ''cal-smith'', ''2026-07-06 00:00 America/New_York'', ''2026-07-11 00:00 America/New_York'', ''vacation'');';

-- Name: book_for_patient(uuid, text, timestamp with time zone, text, text, text, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.book_for_patient(org_id uuid, calendar_id text, slot_time timestamp with time zone, service text DEFAULT NULL::text, patient_name text DEFAULT NULL::text, patient_phone text DEFAULT NULL::text, staff_user text DEFAULT NULL::text, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION book_for_patient(org_id uuid, calendar_id text, slot_time timestamp with time zone, service text, patient_name text, patient_phone text, staff_user text, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.book_for_patient(org_id uuid, calendar_id text, slot_time timestamp with time zone, service text, patient_name text, patient_phone text, staff_user text, changed_by text) IS 'Staff book an appointment for a patient, without a code: the time is claimed exactly as api.claim_slot_atomic
claims it (the same rules: working hours and exceptions, closures and blocks, buffers, the providers offering
the service, notice and horizon; the same exclusion constraint and calendar lock, so of a staff booking and a
voice claim of one time exactly one wins) and confirmed at once: confirmed_via ''staff'', confirmed_by and
appointments.booked_by = staff_user, the patient''s name on the appointment (two people on one number are two
names), the confirmation SMS queued and the reminder scheduled in the same transaction. Audited (changed_by,
default staff_user).
Returns the appointment (as api.get_appointment) with "booked_by", "message", "message_id" (the confirmation),
or {"success": false, "code": "slot_taken", "error", "slot_time", "calendar_id", "alternatives"}.
Errors: VB404 unknown org, calendar or service; VB400 staff_user, patient_name or patient_phone missing, a
malformed phone, a time that is not bookable (as api.claim_slot_atomic).
Example: SELECT api.book_for_patient(''a0000000-0000-0000-0000-000000000001'', ''cal-smith'', ''2026-12-01T15:00:00Z'',
         ''cleaning'', ''Mia Lee'', ''+15555550123'', staff_user => ''front desk'');';

-- Name: calendar_feed(text, text, uuid, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.calendar_feed(calendar_id text, token text DEFAULT NULL::text, org_id uuid DEFAULT NULL::uuid, past_days integer DEFAULT 90) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    t voxbook.calendar_feed_tokens;
    o voxbook.organizations;
    c voxbook.calendars;
    now_ts timestamptz := internal.clock();
BEGIN
    PERFORM internal.require(calendar_id, 'calendar_id');
    IF past_days IS NULL OR past_days NOT BETWEEN 0 AND 3650 THEN
        PERFORM internal.fail('VB400', 'past_days must be between 0 and 3650', 'Leave it out for 90 days of history.');
    END IF;
    IF token IS NOT NULL THEN
        SELECT * INTO t FROM voxbook.calendar_feed_tokens AS x
         WHERE x.token_hash = internal.token_hash(calendar_feed.token) AND x.revoked_at IS NULL;
        -- One answer for "no such token" and "token of another calendar or clinic": a token proves
        -- access to exactly one feed and reveals nothing about the others.
        IF NOT FOUND OR t.calendar_id <> calendar_feed.calendar_id
           OR (calendar_feed.org_id IS NOT NULL AND t.org_id <> calendar_feed.org_id) THEN
            RETURN internal.refusal('invalid_token', 'Unknown or revoked feed token for this calendar');
        END IF;
        o := internal.require_org(t.org_id);
    ELSIF org_id IS NOT NULL THEN
        o := internal.require_org(org_id);
    ELSE
        PERFORM internal.fail('VB400', 'token or org_id is required', 'The HTTP feed passes its token; in psql pass org_id.');
    END IF;
    c := internal.require_calendar(o.id, calendar_id);
    RETURN jsonb_build_object(
        'success', true, 'org_id', o.id, 'clinic', o.name, 'clinic_phone', internal.display_phone(o.phone, o.country),
        'calendar_id', c.id, 'provider', c.display_name, 'time_zone', o.time_zone,
        'generated_at', internal.utc_iso(now_ts),
        'events', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                              -- The appointment's id, not the hold's: a rescheduled appointment keeps its UID.
                              'uid', a.id::text || '@voxbook',
                              'appointment_id', a.id,
                              'starts_at', internal.utc_iso(h.starts_at), 'ends_at', internal.utc_iso(h.ends_at),
                              'created_at', internal.utc_iso(a.created_at),
                              'updated_at', internal.utc_iso(greatest(a.updated_at, h.updated_at)),
                              'summary', format('%s: %s', coalesce(s.name, 'Appointment'), coalesce(a.patient_name, ct.name, 'patient')),
                              'description', format('%s with %s at %s. Booked %s.', coalesce(s.name, 'Appointment'),
                                                    c.display_name, o.name,
                                                    CASE WHEN a.confirmed_via = 'otp' THEN 'by the phone assistant'
                                                         ELSE 'by staff' END),
                              'location', o.name)
                          ORDER BY h.starts_at, a.id), '[]')
                     FROM voxbook.appointments AS a
                     JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
                     JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
                     LEFT JOIN voxbook.services AS s ON s.org_id = a.org_id AND s.id = a.service_id
                    WHERE a.org_id = o.id AND a.status = 'confirmed' AND h.calendar_id = c.id
                      AND h.ends_at >= now_ts - make_interval(days => past_days)));
END
$$;

-- Name: FUNCTION calendar_feed(calendar_id text, token text, org_id uuid, past_days integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.calendar_feed(calendar_id text, token text, org_id uuid, past_days integer) IS 'The confirmed appointments of one provider (cancelled ones are left out; the last past_days days and
everything ahead) for GET /calendars/{calendar_id}.ics, which renders them as iCalendar (RFC 5545).
Authorised by a feed token of that very calendar (api.issue_calendar_feed_token), or by org_id in psql.
Returns {"success": true, "org_id", "clinic", "clinic_phone", "calendar_id", "provider", "time_zone",
"generated_at", "events": [{"uid" (stable: the appointment''s id), "appointment_id", "starts_at",
"ends_at", "created_at", "updated_at" (UTC), "summary", "description", "location"}]} or
{"success": false, "code": "invalid_token", "error"}. No phone numbers: feeds end up in third-party apps.
Errors: VB404 unknown org or calendar; VB400 neither token nor org_id, past_days out of range.
Example: SELECT api.calendar_feed(''cal-smith'', org_id => ''a0000000-0000-0000-0000-000000000001'');';

-- Name: calendar_push_plan(uuid, uuid, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.calendar_push_plan(org_id uuid, connection_id uuid, max_rows integer DEFAULT 200) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    cc voxbook.calendar_connections := internal.connection_by_id(o.id, connection_id, lock => false);
    now_ts timestamptz := internal.clock();
    r record;
    upserts jsonb := '[]';
    deletes jsonb := '[]';
    title text;
BEGIN
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 10000 THEN
        PERFORM internal.fail('VB400', 'max_rows must be between 1 and 10000', 'Pass max_rows => 200.');
    END IF;
    -- Every confirmed appointment of the provider that has not ended (older ones are left as they were):
    -- written when it has no event yet or its event shows other times or another title.
    FOR r IN
        SELECT a.id AS appointment_id, h.starts_at, h.ends_at, s.name AS service_name, c.display_name,
               coalesce(a.patient_name, ct.name, h.patient_name) AS patient,
               p.href, p.etag, p.starts_at AS pushed_starts, p.ends_at AS pushed_ends, p.title AS pushed_title
          FROM voxbook.holds AS h
          JOIN voxbook.appointments AS a ON a.org_id = h.org_id AND a.hold_id = h.id AND a.status = 'confirmed'
          JOIN voxbook.calendars AS c ON c.org_id = h.org_id AND c.id = h.calendar_id
          LEFT JOIN voxbook.services AS s ON s.org_id = a.org_id AND s.id = a.service_id
          LEFT JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
          LEFT JOIN voxbook.calendar_pushes AS p
                 ON p.org_id = a.org_id AND p.connection_id = cc.id AND p.appointment_id = a.id
         WHERE h.org_id = o.id AND h.calendar_id = cc.calendar_id AND h.status = 'confirmed' AND h.ends_at > now_ts
         ORDER BY h.starts_at, a.id
    LOOP
        title := internal.calendar_event_title(cc.event_title, cc.patient_name, r.service_name, r.display_name, r.patient);
        CONTINUE WHEN r.href IS NOT NULL AND r.pushed_starts = r.starts_at AND r.pushed_ends = r.ends_at
                      AND r.pushed_title = title;
        EXIT WHEN jsonb_array_length(upserts) >= max_rows;
        upserts := upserts || jsonb_build_array(jsonb_build_object(
            'appointment_id', r.appointment_id, 'uid', r.appointment_id || '@voxbook', 'href', r.href, 'etag', r.etag,
            'starts_at', internal.utc_iso(r.starts_at), 'ends_at', internal.utc_iso(r.ends_at), 'title', title));
    END LOOP;
    -- Events of appointments that are no longer confirmed on this provider (cancelled, moved to another one).
    FOR r IN
        SELECT p.appointment_id, p.href, p.etag
          FROM voxbook.calendar_pushes AS p
         WHERE p.org_id = o.id AND p.connection_id = cc.id
           AND NOT EXISTS (SELECT 1 FROM voxbook.appointments AS a
                             JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
                            WHERE a.org_id = p.org_id AND a.id = p.appointment_id AND a.status = 'confirmed'
                              AND h.calendar_id = cc.calendar_id)
         ORDER BY p.appointment_id LIMIT max_rows
    LOOP
        deletes := deletes || jsonb_build_array(jsonb_build_object('appointment_id', r.appointment_id,
                                                                   'href', r.href, 'etag', r.etag));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'upserts', upserts, 'deletes', deletes);
END
$$;

-- Name: FUNCTION calendar_push_plan(org_id uuid, connection_id uuid, max_rows integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.calendar_push_plan(org_id uuid, connection_id uuid, max_rows integer) IS 'For the calendar sync worker: what to write to a connection''s calendar now, by comparing the provider''s
confirmed appointments that have not ended with what was pushed (voxbook.calendar_pushes). Every path that books,
moves or cancels is seen, whatever function made it. "upserts": a new, moved or renamed appointment''s event
(uid "<appointment_id>@voxbook", href and etag of the event written before or null, the times in UTC, the title
from the connection''s template and patient-name policy; never a phone number); "deletes": the events of
appointments cancelled or moved to another provider. At most max_rows of each, earliest first.
Returns {"success": true, "upserts": [{"appointment_id", "uid", "href", "etag", "starts_at", "ends_at",
"title"}], "deletes": [{"appointment_id", "href", "etag"}]}.
Errors: VB404 unknown org or connection (another clinic''s too); VB400 max_rows outside 1-10000.
Example: SELECT api.calendar_push_plan(''a0000000-0000-0000-0000-000000000001'', ''5b0d...'');';

-- Name: calendar_sync_problems(integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.calendar_sync_problems(max_rows integer DEFAULT 100) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    now_ts timestamptz := internal.clock();
    failing jsonb;
    total bigint;
BEGIN
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 10000 THEN
        PERFORM internal.fail('VB400', 'max_rows must be between 1 and 10000', 'Pass max_rows => 100.');
    END IF;
    SELECT count(*) INTO total FROM voxbook.calendar_connections AS x;
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'org_id', t.org_id, 'calendar_id', t.calendar_id, 'last_error_class', t.last_error_class,
               'last_error', t.last_error, 'consecutive_failures', t.consecutive_failures,
               'last_success_at', internal.utc_iso(t.last_success_at)) ORDER BY t.org_id, t.calendar_id), '[]')
      INTO failing
      FROM (SELECT x.org_id, x.calendar_id, x.last_error_class, x.last_error, x.consecutive_failures, x.last_success_at
              FROM voxbook.calendar_connections AS x
             -- Failing now, or never synced although due for a while (no sync worker running?).
             WHERE x.consecutive_failures > 0
                OR x.last_success_at IS NULL AND x.created_at < now_ts - interval '5 minutes'
             ORDER BY x.org_id, x.calendar_id LIMIT max_rows) AS t;
    RETURN jsonb_build_object('success', true, 'connections', total, 'failing', failing);
END
$$;

-- Name: FUNCTION calendar_sync_problems(max_rows integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.calendar_sync_problems(max_rows integer) IS 'The CalDAV connections that fail, across clinics (voxbook doctor): those whose last sync failed, and those never
synced 5 minutes after they were connected (is a sync worker running?). At most max_rows, by clinic.
Returns {"success": true, "connections" (how many in all), "failing": [{"org_id", "calendar_id", "last_error_class",
"last_error", "consecutive_failures", "last_success_at"}]}. Errors: VB400 max_rows outside 1-10000.
Example: SELECT api.calendar_sync_problems();';

-- Name: caller_greeting(uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.caller_greeting(org_id uuid, caller_phone text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION caller_greeting(org_id uuid, caller_phone text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.caller_greeting(org_id uuid, caller_phone text) IS 'Who is calling back, for the assistant''s greeting (the webhook''s assistant-request): from the caller''s own
number (caller_phone: Vapi''s call.customer.number, never one the caller says), only the first name and the day
and time of the next appointment -- nothing more personal before the caller is verified.
Returns {"success": true, "known": false} (a new, withheld or unreadable number) or {"success": true, "known":
true, "first_name", "next_appointment": {"starts_at", "day", "spoken_time"} | null}.
Errors: VB404 unknown org.
Example: SELECT api.caller_greeting(''a0000000-0000-0000-0000-000000000001'', ''+15555550123'');';

-- Name: cancel_appointment(uuid, uuid, text, text, boolean, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.cancel_appointment(appointment_id uuid, org_id uuid, reason text DEFAULT NULL::text, patient_phone text DEFAULT NULL::text, notify boolean DEFAULT true, staff_user text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION cancel_appointment(appointment_id uuid, org_id uuid, reason text, patient_phone text, notify boolean, staff_user text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.cancel_appointment(appointment_id uuid, org_id uuid, reason text, patient_phone text, notify boolean, staff_user text) IS 'Cancels an appointment: its time is free at once, its pending reminder is cancelled and (notify, for a
future appointment) a cancellation SMS is queued. Idempotent. With patient_phone (the voice path) the
appointment must belong to that caller. Returns the appointment with "status": "cancelled" and "message".
Cancellation notice: without staff_user (a caller, by voice or SMS) an appointment starting within the clinic''s
organizations.cancellation_notice_minutes is not cancelled: {"success": false, "code": "within_notice", "error",
"appointment_id", "starts_at", "notice_minutes", "notice_hours"}. staff_user (the staff member''s name) overrides
the notice, is stored as appointments.cancelled_by and the change is audited (voxbook.audit_log). Never a tool
argument: api.run_tool_call refuses it.
Errors: VB404 unknown org or appointment (or not this caller''s); VB400 malformed phone.
Example: SELECT api.cancel_appointment(''<appointment_id>'', ''a0000000-0000-0000-0000-000000000001'',
         ''patient called'', staff_user => ''front desk'');';

-- Name: cancel_my_appointment(uuid, text, text, text, uuid, integer, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.cancel_my_appointment(org_id uuid, call_id text DEFAULT NULL::text, caller_phone text DEFAULT NULL::text, phone text DEFAULT NULL::text, appointment_id uuid DEFAULT NULL::uuid, which integer DEFAULT NULL::integer, at text DEFAULT NULL::text, reason text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION cancel_my_appointment(org_id uuid, call_id text, caller_phone text, phone text, appointment_id uuid, which integer, at text, reason text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.cancel_my_appointment(org_id uuid, call_id text, caller_phone text, phone text, appointment_id uuid, which integer, at text, reason text) IS 'Cancels one of a caller''s upcoming appointments (the voice tool cancel_my_appointment). The caller as in
api.find_my_appointments: their own number (caller_phone, from Vapi''s call), or a number this call proved with a
code (phone). The appointment: appointment_id (from find_my_appointments), or which (its position there, 1 =
soonest), or at (local ''YYYY-MM-DD'', ''YYYY-MM-DD HH:MM'', ''HH:MM'' or a weekday, English or Spanish); nothing and a
single upcoming appointment: that one. Then exactly api.cancel_appointment on the caller''s path (the clinic''s
cancellation notice holds, the time is free at once, the cancellation SMS queued), in one transaction.
Returns api.cancel_appointment''s result, or {"success": false, "code": "verification_required" (with
"code_sent": false: ask find_my_appointments with phone for a code) | "phone_needed" | "no_appointments" |
"not_found" | "ambiguous" (with the candidates as "appointments") | "within_notice", "error", ...}.
Errors: VB404 unknown org or appointment; VB400 a malformed phone, which below 1, an unreadable at.
Example: SELECT api.cancel_my_appointment(''a0000000-0000-0000-0000-000000000001'', ''call-123'', ''+15555550123'', at => ''Tuesday'');';

-- Name: check_availability(uuid, date, text, text, integer, integer, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.check_availability(org_id uuid, date date, calendar_id text DEFAULT NULL::text, service text DEFAULT NULL::text, days integer DEFAULT 1, max_slots integer DEFAULT NULL::integer, spread integer DEFAULT NULL::integer) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION check_availability(org_id uuid, date date, calendar_id text, service text, days integer, max_slots integer, spread integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.check_availability(org_id uuid, date date, calendar_id text, service text, days integer, max_slots integer, spread integer) IS 'Free slots of a clinic for a local date (or `days` days from it), in the clinic''s time zone.
Optionally for one calendar and sized for one service (its duration; else the calendar''s default).
Excludes live holds, confirmed appointments (with the buffers of both: no time whose service''s buffers
would overlap another booking''s, nor one inside another booking''s buffers), blocked periods and clinic
closures, past and too-soon times; a date''s hours exceptions replace its weekday''s hours. With a service:
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
Example: SELECT api.check_availability(''a0000000-0000-0000-0000-000000000001'', ''2026-12-01'');';

-- Name: claim_calendar_sync(uuid, uuid, text, double precision); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.claim_calendar_sync(org_id uuid, connection_id uuid, worker_id text, lease_seconds double precision DEFAULT 120) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    cc voxbook.calendar_connections := internal.connection_by_id(o.id, connection_id, lock => true);
    c voxbook.calendars;
    now_ts timestamptz := internal.clock();
    lease timestamptz;
BEGIN
    PERFORM internal.require(worker_id, 'worker_id');
    IF length(worker_id) > 200 OR lease_seconds IS NULL OR lease_seconds NOT BETWEEN 1 AND 86400 THEN
        PERFORM internal.fail('VB400', 'worker_id over 200 characters or lease_seconds outside 1-86400',
                              'Pass host:pid or similar, and how long one sync may take (e.g. 120).');
    END IF;
    IF cc.lease_until >= now_ts AND cc.locked_by IS DISTINCT FROM worker_id THEN
        RETURN internal.refusal('busy', 'another worker is syncing this calendar now');
    END IF;
    lease := now_ts + make_interval(secs => lease_seconds);
    UPDATE voxbook.calendar_connections AS x SET locked_by = worker_id, lease_until = lease, last_attempt_at = now_ts
     WHERE x.org_id = o.id AND x.id = cc.id;
    SELECT * INTO c FROM voxbook.calendars AS x WHERE x.org_id = o.id AND x.id = cc.calendar_id;
    RETURN jsonb_build_object('success', true, 'connection', internal.calendar_claim_json(cc, o, c, lease, now_ts));
END
$$;

-- Name: FUNCTION claim_calendar_sync(org_id uuid, connection_id uuid, worker_id text, lease_seconds double precision); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.claim_calendar_sync(org_id uuid, connection_id uuid, worker_id text, lease_seconds double precision) IS 'Claims one connection now, due or not (a "sync now", one clinic''s worker), as api.claim_calendar_syncs claims
due ones: held by worker_id for lease_seconds. Refused while another worker''s lease runs.
Returns {"success": true, "connection": <as in api.claim_calendar_syncs>} or {"success": false, "code": "busy"}.
Errors: VB404 unknown org or connection; VB400 worker_id missing or over 200 characters, lease_seconds outside 1-86400.
Example: SELECT api.claim_calendar_sync(:org, :conn, ''host:1234'');';

-- Name: claim_calendar_syncs(text, integer, double precision, timestamp with time zone); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.claim_calendar_syncs(worker_id text, max_rows integer DEFAULT 10, lease_seconds double precision DEFAULT 120, due_before timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    now_ts timestamptz := internal.clock();
    due timestamptz;
    lease timestamptz;
    cand record;
    cc voxbook.calendar_connections;
    o voxbook.organizations;
    c voxbook.calendars;
    found_rows jsonb := '[]';
BEGIN
    PERFORM internal.require(worker_id, 'worker_id');
    IF length(worker_id) > 200 THEN
        PERFORM internal.fail('VB400', 'worker_id is limited to 200 characters', 'Pass host:pid or similar.');
    END IF;
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 1000 THEN
        PERFORM internal.fail('VB400', 'max_rows must be between 1 and 1000', 'Pass max_rows => 10.');
    END IF;
    IF lease_seconds IS NULL OR lease_seconds NOT BETWEEN 1 AND 86400 THEN
        PERFORM internal.fail('VB400', 'lease_seconds must be between 1 and 86400',
                              'Pass how long one sync of a calendar may take (e.g. 120).');
    END IF;
    PERFORM internal.require_instant(due_before, 'due_before', optional => true);
    lease := now_ts + make_interval(secs => lease_seconds);
    -- due_before: one pass of a worker's drain claims only what was due when it began (its first claim's
    -- "claimed_at"); a calendar it synced meanwhile, due again at once, waits for the next pass.
    due := least(now_ts, coalesce(due_before, now_ts));
    -- Candidates across clinics unlocked, then each locked by its key with SKIP LOCKED and checked again
    -- (Citus: no FOR UPDATE over several shards). A connection held by a live lease is another worker's.
    FOR cand IN
        SELECT x.org_id, x.id FROM voxbook.calendar_connections AS x
         WHERE x.next_attempt_at <= due AND (x.lease_until IS NULL OR x.lease_until < now_ts)
         ORDER BY x.next_attempt_at LIMIT 2 * max_rows
    LOOP
        EXIT WHEN jsonb_array_length(found_rows) >= max_rows;
        SELECT * INTO cc FROM voxbook.calendar_connections AS x
         WHERE x.org_id = cand.org_id AND x.id = cand.id
           AND x.next_attempt_at <= due AND (x.lease_until IS NULL OR x.lease_until < now_ts)
           FOR UPDATE SKIP LOCKED;
        CONTINUE WHEN NOT FOUND;
        UPDATE voxbook.calendar_connections AS x
           SET locked_by = worker_id, lease_until = lease, last_attempt_at = now_ts
         WHERE x.org_id = cc.org_id AND x.id = cc.id;
        SELECT * INTO o FROM voxbook.organizations AS x WHERE x.id = cc.org_id;
        SELECT * INTO c FROM voxbook.calendars AS x WHERE x.org_id = cc.org_id AND x.id = cc.calendar_id;
        found_rows := found_rows || jsonb_build_array(internal.calendar_claim_json(cc, o, c, lease, now_ts));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'claimed_at', due, 'connections', found_rows);   -- to the microsecond
END
$$;

-- Name: FUNCTION claim_calendar_syncs(worker_id text, max_rows integer, lease_seconds double precision, due_before timestamp with time zone); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.claim_calendar_syncs(worker_id text, max_rows integer, lease_seconds double precision, due_before timestamp with time zone) IS 'For the calendar sync worker, across clinics (not delegated): claims up to max_rows connections due for a sync
(next_attempt_at passed, no live lease) with FOR UPDATE SKIP LOCKED, each held by worker_id for lease_seconds: two
workers never sync one calendar at once. due_before: only connections due by then (a worker''s pass passes its first
claim''s "claimed_at", so that a calendar synced in the pass and due again at once waits for the next).
Returns {"success": true, "claimed_at", "connections": [{"org_id", "connection_id",
"calendar_id", "provider", "url", "username", "secret_ciphertext" (decrypted only in the worker''s memory),
"key_id", "sync_token", "ctag", "time_zone", "window_starts", "window_ends" (busy time is imported over this window),
"full" (read the whole calendar: first sync, or a day since the last full read), "lease_until"}]}.
Errors: VB400 worker_id missing or over 200 characters, max_rows outside 1-1000, lease_seconds outside 1-86400,
due_before out of range.
Example: SELECT api.claim_calendar_syncs(''host:1234'', 10, 120);';

-- Name: claim_slot_atomic(uuid, text, timestamp with time zone, text, text, text, integer, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.claim_slot_atomic(org_id uuid, calendar_id text, slot_time timestamp with time zone, call_sid text DEFAULT NULL::text, patient_name text DEFAULT NULL::text, patient_phone text DEFAULT NULL::text, hold_minutes integer DEFAULT NULL::integer, service text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION claim_slot_atomic(org_id uuid, calendar_id text, slot_time timestamp with time zone, call_sid text, patient_name text, patient_phone text, hold_minutes integer, service text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.claim_slot_atomic(org_id uuid, calendar_id text, slot_time timestamp with time zone, call_sid text, patient_name text, patient_phone text, hold_minutes integer, service text) IS 'Holds a slot for hold_minutes (default: the clinic''s, 10) so nobody else can take it while the caller
confirms. Atomic: of concurrent claims on overlapping time exactly one wins (exclusion constraint
holds_no_overlap). The hold covers the service''s duration, or the calendar''s default, and keeps the service''s
buffers before and after free too (a 60-minute cleaning with 10 minutes after occupies 70): no claim whose
time or buffers overlap another''s time or buffers gets in. The calendar must offer the service
(voxbook.service_providers). It takes the provider''s calendar lock (shared) first, so a concurrent api.block_time of
that time (or a clinic closure) and this claim never both succeed.
call_sid is Vapi''s call.id (stored as holds.vapi_call_id; the parameter keeps the seed''s name). The same
call claiming the same slot again gets the same hold; a new slot on the same call releases its previous hold.
Returns {"success": true, "hold_id", "expires_at", "message", "status", "calendar_id", "provider",
"starts_at", "ends_at", "local_time", "spoken_time"} or
{"success": false, "code": "slot_taken", "error": "Slot already held", "slot_time", "calendar_id",
"alternatives": [{"time", "calendar_id", "provider", "spoken_time", "local_time"}]}: the alternatives are the
two free times of that local day nearest to the one lost (any calendar, the same service, one per spoken
time, in time order; [] when none).
Errors: VB404 unknown org/calendar/service; VB400 slot_time missing or out of range (infinite, before 2000,
over five years ahead), slot in the past, too soon, outside working hours (or that date''s hours exception),
off the slot grid, blocked, the clinic closed, malformed phone, an inactive service or one the calendar does
not offer.
Example: SELECT api.claim_slot_atomic(''a0000000-0000-0000-0000-000000000001'', ''cal-smith'',
         ''2026-12-01T15:00:00Z'', ''call-123'', ''John Smith'', ''+15555550123'');';

-- Name: claim_sms_batch(text, integer, double precision); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.claim_sms_batch(worker_id text, batch_size integer DEFAULT 50, lease_seconds double precision DEFAULT 120) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_custom_plan'
    AS $$
DECLARE
    now_ts timestamptz := internal.clock();
    m voxbook.sms_outbox;
    cand record;
    requeued boolean;
    reason text;
    resend_ok boolean;
    recovered jsonb;
    claimed jsonb[] := '{}';
    senders jsonb := '{}';
    skipped jsonb := '[]';
BEGIN
    PERFORM internal.require(worker_id, 'worker_id');
    IF batch_size IS NULL OR batch_size NOT BETWEEN 1 AND 1000 THEN
        PERFORM internal.fail('VB400', 'batch_size must be between 1 and 1000', 'Pass batch_size => 50.');
    END IF;
    IF lease_seconds IS NULL OR lease_seconds < 0 OR lease_seconds > 86400 THEN
        PERFORM internal.fail('VB400', 'lease_seconds must be between 0 and 86400',
                              'Pass how long a claimed message may wait for its send (e.g. 50).');
    END IF;

    -- A row still 'sending' after its lease belongs to a worker that died, hung or lost its connection.
    -- If a request for it may have reached the provider (api.begin_sms_send was called) it is reconciled,
    -- never sent blindly again; if not, it is simply queued again (that attempt never happened).
    -- The lease is the row's own (lease_until): whatever this caller's lease_seconds, a row is taken over
    -- only once its holder's lease, renewed just before its send to cover that send, has run out.
    WITH lost AS (
        UPDATE voxbook.sms_outbox AS x
           SET status = CASE WHEN x.provider_may_have THEN 'unknown' ELSE 'queued' END,
               locked_by = NULL, locked_at = NULL, lease_until = NULL,
               error_message = CASE WHEN x.provider_may_have
                                    THEN 'worker lost while sending (' || coalesce(x.locked_by, '?') || ')'
                                    ELSE x.error_message END,
               updated_at = now()
         WHERE x.status = 'sending' AND x.lease_until < now_ts
        RETURNING x.id, x.status
    )
    SELECT coalesce(jsonb_agg(lost.id), '[]'), coalesce(bool_or(lost.status = 'queued'), false)
      INTO recovered, requeued FROM lost;
    IF requeued THEN
        PERFORM internal.notify('voxbook_sms');   -- due again: other workers may take them at once
    END IF;

    -- Candidates across clinics unlocked, then each locked by its key (org_id, id) with SKIP LOCKED and
    -- checked again: on Citus a FOR UPDATE over several shards is refused, one row by its key goes to its
    -- shard. A row another worker holds is skipped; one it claimed and committed meanwhile fails the
    -- re-check. Twice the batch as candidates, so that racing workers still fill their batches.
    FOR cand IN
        SELECT x.org_id, x.id FROM voxbook.sms_outbox AS x
         WHERE x.status IN ('queued', 'unknown') AND x.send_after <= now_ts
         ORDER BY x.send_after
         LIMIT 2 * claim_sms_batch.batch_size
    LOOP
        EXIT WHEN cardinality(claimed) + jsonb_array_length(skipped) >= claim_sms_batch.batch_size;
        SELECT * INTO m FROM voxbook.sms_outbox AS x
         WHERE x.org_id = cand.org_id AND x.id = cand.id
           AND x.status IN ('queued', 'unknown') AND x.send_after <= now_ts
           FOR UPDATE SKIP LOCKED;
        CONTINUE WHEN NOT FOUND;
        reason := internal.sms_block_reason(m, now_ts);
        IF m.status = 'queued' AND reason IS NOT NULL THEN
            m := internal.settle_blocked_sms(m, reason);
            skipped := skipped || jsonb_build_object('message_id', m.id, 'org_id', m.org_id, 'kind', m.kind,
                                                     'status', m.status, 'reason', reason);
            CONTINUE;
        END IF;
        -- Two identical texts to one number cannot be told apart at the provider (its message list does
        -- not return our callback URL). An unknown one is looked up only once every older twin that the
        -- provider may have (its send begun, outcome not recorded) is settled: then the twins' provider ids
        -- are recorded and in taken_sids, and the lookup cannot take one of them for its own. Oldest first,
        -- so two unknown twins never wait for each other.
        IF m.status = 'unknown' AND EXISTS (
               SELECT 1 FROM voxbook.sms_outbox AS t
                WHERE t.org_id = m.org_id AND t.recipient = m.recipient AND t.body = m.body
                  AND t.provider_may_have AND t.status IN ('sending', 'unknown')
                  AND (t.created_at, t.id) < (m.created_at, m.id)) THEN
            UPDATE voxbook.sms_outbox AS x SET send_after = now_ts + interval '1 second', updated_at = now()
             WHERE x.org_id = m.org_id AND x.id = m.id;
            CONTINUE;
        END IF;
        -- An unknown outcome is always looked up first; a resend after that is allowed only while the
        -- message could still be sent from scratch (api.begin_sms_send decides again just before).
        resend_ok := reason IS NULL AND m.attempts < m.max_attempts;
        IF m.status = 'unknown' AND reason IS NULL AND NOT resend_ok THEN
            reason := format('no attempts left (%s)', m.max_attempts);
        END IF;
        IF m.sender IS NULL AND NOT senders ? m.org_id::text THEN
            -- The clinic's sender, looked up once per clinic and batch (JSON null: use the Messaging Service).
            senders := senders || jsonb_build_object(m.org_id::text,
                                                     (SELECT o.sms_from FROM voxbook.organizations AS o WHERE o.id = m.org_id));
        END IF;
        -- Claimed, not yet attempted: the attempt is counted by api.begin_sms_send, when it really starts.
        UPDATE voxbook.sms_outbox AS x
           SET status = 'sending', locked_by = claim_sms_batch.worker_id, locked_at = now_ts,
               lease_until = now_ts + make_interval(secs => lease_seconds), updated_at = now()
         WHERE x.org_id = m.org_id AND x.id = m.id;
        claimed := claimed || jsonb_build_object(
            'message_id', m.id,
            'org_id', m.org_id,
            'kind', m.kind,
            'to', m.recipient,
            'from', coalesce(m.sender, senders->>m.org_id::text),
            'body', m.body,
            'segments', m.segments,
            'encoding', m.encoding,
            'attempt', m.attempts + 1,
            'max_attempts', m.max_attempts,
            'validity_period', CASE WHEN m.expires_at IS NOT NULL
                                    THEN least(greatest(ceil(extract(epoch FROM m.expires_at - now_ts))::int, 1), 36000) END,
            'reconcile', m.status = 'unknown',
            'resend', m.status = 'queued' OR resend_ok,
            'resend_blocked', CASE WHEN m.status = 'unknown' THEN reason END,
            'first_attempt_at', internal.utc_iso(coalesce(m.first_attempt_at, now_ts)),
            -- Provider ids already recorded for other messages to this number since shortly before our
            -- first attempt: a lookup must never take one of those for ours (two identical texts).
            'taken_sids', CASE WHEN m.status = 'unknown' THEN
                (SELECT coalesce(jsonb_agg(o.provider_message_id), '[]') FROM voxbook.sms_outbox AS o
                  WHERE o.org_id = m.org_id AND o.recipient = m.recipient AND o.provider_message_id IS NOT NULL
                    AND o.sent_at >= coalesce(m.first_attempt_at, now_ts) - interval '1 hour'
                    AND o.id <> m.id) END,
            'appointment_id', m.appointment_id);
    END LOOP;
    RETURN jsonb_build_object('success', true, 'worker_id', worker_id, 'messages', to_jsonb(claimed),
                              'skipped', skipped, 'recovered', recovered);
END
$$;

-- Name: FUNCTION claim_sms_batch(worker_id text, batch_size integer, lease_seconds double precision); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.claim_sms_batch(worker_id text, batch_size integer, lease_seconds double precision) IS 'Claims up to batch_size due messages (status queued or unknown, send_after reached) for one worker,
each row locked by its key with FOR UPDATE SKIP LOCKED and checked again: any number of workers can call it
at once and never get the same row.
A claimed row is the worker''s until lease_seconds from now (lease_until); before each send the worker must
call api.begin_sms_send, which checks that the row is still its own and renews the lease to cover the send.
First, rows left ''sending'' past their lease (a killed, hung or disconnected worker) are taken back:
''unknown'' if a send of theirs had begun (reconcile before any resend), else ''queued'' again.
Queued rows that must not go out are settled instead of claimed and listed in "skipped": expired
(expires_at passed), a code whose hold is no longer live, a reminder of a cancelled, moved or started
appointment (cancelled / skipped), an opted-out recipient, a message no longer useful (retried in vain for
24 hours, 6 for a hot-lead alert: status failed). Claimed rows become ''sending'' (locked_by, locked_at, lease_until).
Returns {"success": true, "worker_id", "recovered": [message_id...],
"skipped": [{"message_id", "org_id", "kind", "status", "reason"}],
"messages": [{"message_id", "org_id", "kind", "to", "from" (clinic sender or null: use the Messaging Service),
"body", "segments", "encoding", "attempt" (the number this attempt gets, to pass to api.begin_sms_send),
"max_attempts", "validity_period" (seconds left, for expiring messages such as codes; else null), "reconcile"
(true: the outcome of an earlier send is unknown, ask the provider first), "resend" (may be sent if the
provider does not have it), "resend_blocked" (why not), "first_attempt_at" (search the provider from there),
"taken_sids" (reconcile only: provider ids of other messages to this number, never ours), "appointment_id"}]}.
Errors: VB400 missing worker_id, batch_size outside 1-1000, lease_seconds outside 0-86400.
Example: SELECT api.claim_sms_batch(''host-1:4242'', 50, 60);';

-- Name: clear_carrier_account(uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.clear_carrier_account(org_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    n int;
BEGIN
    PERFORM internal.require_org(org_id);
    DELETE FROM voxbook.carrier_accounts AS x WHERE x.org_id = clear_carrier_account.org_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN jsonb_build_object('success', true, 'org_id', org_id, 'cleared', n > 0);
END
$$;

-- Name: FUNCTION clear_carrier_account(org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.clear_carrier_account(org_id uuid) IS 'Removes a clinic''s own carrier account: its messages go through the process-wide account again
(TWILIO_ACCOUNT_SID) and its callbacks are checked with that token. Idempotent.
Returns {"success": true, "org_id", "cleared" (false: it had none)}. Errors: VB404 unknown org.
Example: SELECT api.clear_carrier_account(''a0000000-0000-0000-0000-000000000001'');';

-- Name: code_status(); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.code_status() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
    SELECT CASE WHEN internal.code_pepper() IS NULL
                THEN jsonb_build_object('available', false, 'reason', 'no pepper configured')
                ELSE jsonb_build_object('available', true) END
$$;

-- Name: FUNCTION code_status(); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.code_status() IS 'Whether this session can send and check one-time codes: {"available": true}, or {"available": false,
"reason": "no pepper configured"} when the login role has no voxbook.code_pepper setting (set by
`voxbook db migrate` from VOXBOOK_CODE_PEPPER). Never shows the pepper. Used by GET /health.
Example: SELECT api.code_status();';

-- Name: config_problems(text, boolean, text[]); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.config_problems(sms_provider text, messaging_service boolean, secrets_key_ids text[] DEFAULT NULL::text[]) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    general jsonb;
    carrier jsonb;
BEGIN
    -- PL/pgSQL: no SQL-language function reads a table (db/README.md, Citus).
    SELECT coalesce(jsonb_agg(p), '[]') INTO general
      FROM (
        SELECT jsonb_build_object(
                   'check', 'code_pepper',
                   'message', 'one-time codes are off: this database role has no code pepper',
                   'fix', 'set VOXBOOK_CODE_PEPPER (32+ random characters) and run voxbook db migrate --app-role ROLE')
         WHERE internal.code_pepper() IS NULL
        UNION ALL
        -- Twilio sends from the clinic's number, or through a Messaging Service; with neither, every code and
        -- confirmation of the clinic would fail at the provider after the caller was told it was sent.
        SELECT jsonb_build_object(
                   'check', 'sms_sender', 'org_id', o.id,
                   'message', 'clinic ' || o.id || ' has no sender number: its texts would fail at Twilio',
                   'fix', 'set organizations.sms_from for it, or TWILIO_MESSAGING_SERVICE_SID')
          FROM voxbook.organizations AS o
         WHERE config_problems.sms_provider = 'twilio' AND NOT config_problems.messaging_service
           AND o.sms_from IS NULL
      ) AS f(p);
    -- A clinic on its own carrier account whose token no key of this process opens: it sends nothing and its
    -- callbacks are refused. Compared by key id (voxbook.secrets_box.key_id), never by the key or the token.
    -- Its own statement: carrier_accounts is distributed on Citus, organizations a reference table.
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'check', 'carrier_secrets_key', 'org_id', a.org_id,
               'message', 'clinic ' || a.org_id || ' has its own carrier account, but '
                          || CASE WHEN cardinality(config_problems.secrets_key_ids) = 0
                                  THEN 'VOXBOOK_SECRETS_KEY is not set (or not a Fernet key)'
                                  ELSE 'no key of VOXBOOK_SECRETS_KEY made its token (key id ' || a.key_id || ')' END
                          || ': it sends nothing and its Twilio callbacks are refused',
               'fix', 'put the key with id ' || a.key_id || ' in VOXBOOK_SECRETS_KEY (comma-separated; to move to '
                      || 'a new key, put it first and run voxbook clinic carrier rekey), or set the account again: '
                      || 'voxbook clinic carrier set --org ' || a.org_id)), '[]')
      INTO carrier
      FROM voxbook.carrier_accounts AS a
     WHERE config_problems.secrets_key_ids IS NOT NULL AND NOT a.key_id = ANY (config_problems.secrets_key_ids);
    RETURN jsonb_build_object('problems', (
        SELECT coalesce(jsonb_agg(p ORDER BY p->>'check', p->>'org_id'), '[]')
          FROM jsonb_array_elements(general || carrier) AS e(p)));
END
$$;

-- Name: FUNCTION config_problems(sms_provider text, messaging_service boolean, secrets_key_ids text[]); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.config_problems(sms_provider text, messaging_service boolean, secrets_key_ids text[]) IS 'Configuration that cannot work, as {"problems": [{"check", "message", "fix", "org_id"?}]} (empty: none):
"code_pepper" when this session''s role has no code pepper (codes are off); "sms_sender" for each clinic
without a sender number (organizations.sms_from) when sms_provider is ''twilio'' and no Messaging Service is
configured (messaging_service false); "carrier_secrets_key" for each clinic with its own carrier account whose
token was encrypted with a key not among secrets_key_ids (the ids of the keys in the process''s
VOXBOOK_SECRETS_KEY, voxbook.secrets_box.key_id; ''{}'' when it is unset; NULL, the default: not checked).
Messages name clinics and key ids only, never a key or a token. Used by `voxbook doctor`, the
start-up checks of `voxbook serve`/`voxbook worker` and GET /health.
Example: SELECT api.config_problems(sms_provider => ''twilio'', messaging_service => false, secrets_key_ids => ''{3f2a9c0d1e4b}'');';

-- Name: confirm_held_slot(uuid, uuid, uuid, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.confirm_held_slot(hold_id uuid, org_id uuid, contact_id uuid DEFAULT NULL::uuid, service_type text DEFAULT NULL::text, staff_user text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
BEGIN
    PERFORM internal.require(hold_id, 'hold_id');
    staff_user := internal.audit_name(staff_user);   -- capped, the email kept (63_audit.sql)
    RETURN internal.confirm_hold(org_id, hold_id, contact_id, service_type,
                                 CASE WHEN staff_user IS NULL THEN 'otp' ELSE 'staff' END, staff_user);
END
$$;

-- Name: FUNCTION confirm_held_slot(hold_id uuid, org_id uuid, contact_id uuid, service_type text, staff_user text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.confirm_held_slot(hold_id uuid, org_id uuid, contact_id uuid, service_type text, staff_user text) IS 'Turns a live hold into a confirmed appointment, creates or updates the contact (from the hold''s phone
unless contact_id is given), queues the confirmation SMS and schedules the reminder, all in one
transaction. Without staff_user the hold''s one-time code must have been verified (api.verify_otp
already confirms in that case, so this returns the same appointment); with staff_user it is the staff
path, recorded as confirmed_via = ''staff''. Repeating it returns the same appointment.
service_type may name the service only if it fits the held time: one of another length than the hold
(a 30-minute hold confirmed as a 60-minute cleaning) is refused with "service_mismatch"; reserve again
with that service.
Returns the appointment ({"success": true, "appointment_id", "message", "status", "starts_at", ...}) or
{"success": false, "code": "hold_expired" | "not_verified", "error", "hold_id"} or
{"success": false, "code": "service_mismatch", "error", "hold_id", "service", "held_minutes", "service_minutes"}.
Errors: VB404 unknown org, hold, contact or service; VB400 hold without phone and no contact_id.
Example: SELECT api.confirm_held_slot(''<hold_id>'', ''a0000000-0000-0000-0000-000000000001'',
         staff_user => ''front desk'');';

-- Name: connect_calendar(uuid, text, text, text, text, text, text, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.connect_calendar(org_id uuid, calendar_id text, url text, username text, secret_ciphertext text, key_id text, event_title text DEFAULT NULL::text, patient_name text DEFAULT NULL::text, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $_$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    c voxbook.calendars;
    link text := btrim(url);
    login text := btrim(username);
    cipher text := btrim(secret_ciphertext);
    title text := coalesce(internal.one_line(event_title), '{service}');
    policy text := coalesce(lower(btrim(patient_name)), 'none');
    old voxbook.calendar_connections;
    cc voxbook.calendar_connections;
    now_ts timestamptz := internal.clock();
    who text := internal.changed_by(changed_by);
    busy_removed int := 0;
BEGIN
    PERFORM internal.require(link, 'url');
    PERFORM internal.require(login, 'username');
    PERFORM internal.require(cipher, 'secret_ciphertext');
    PERFORM internal.require(key_id, 'key_id');
    -- Never a value in a message: a password pasted into the wrong argument would be logged with it.
    IF link !~ '^https?://[^\s/]+(/[^\s]*)?$' OR length(link) > 2000 THEN
        PERFORM internal.fail('VB400', 'url is not an http(s) URL',
                              'Pass the URL of the calendar collection, e.g. https://cloud.example.com/remote.php/dav/calendars/smith/personal/.');
    END IF;
    -- user:password@host would put the password, in clear, in every listing and log of the URL.
    IF link ~ '^https?://[^/]*@' THEN
        PERFORM internal.fail('VB400', 'url must not contain credentials',
                              'Pass the URL without user:password@; the username and password are separate arguments.');
    END IF;
    IF length(login) > 320 OR login ~ '[\x00-\x1f\x7f]' THEN
        PERFORM internal.fail('VB400', 'username is malformed', 'Pass the CalDAV login (at most 320 characters, one line).');
    END IF;
    IF cipher !~ '^gAAAAA[A-Za-z0-9_=-]+$' OR length(cipher) NOT BETWEEN 100 AND 20000 THEN
        PERFORM internal.fail('VB400', 'secret_ciphertext is not an encrypted secret',
                              'Pass the Fernet ciphertext made with VOXBOOK_SECRETS_KEY, never the password itself: '
                              'voxbook calendar connect --password-env VAR does it.');
    END IF;
    IF key_id !~ '^[0-9a-f]{8,64}$' THEN
        PERFORM internal.fail('VB400', 'key_id is not a key id',
                              'Pass the id of the key that made the ciphertext (voxbook.secrets_box.key_id: 12 hex digits).');
    END IF;
    IF length(title) > 200 OR (SELECT bool_or(m[1] NOT IN ('service', 'provider', 'patient'))
                                 FROM regexp_matches(title, '\{([^}]*)\}', 'g') AS m) THEN
        PERFORM internal.fail('VB400', 'event_title is not a title template',
                              'At most 200 characters; the placeholders are {service}, {provider} and {patient}, e.g. ''{service} - {patient}''.');
    END IF;
    IF policy NOT IN ('none', 'first', 'full') THEN
        PERFORM internal.fail('VB400', 'patient_name must be none, first or full',
                              'How much of the patient''s name the events show: none (default), first (first name) or full.');
    END IF;
    -- The calendar lock, taken as block_time takes it: the imports that follow and claims are ordered by it.
    c := internal.setup_calendar(o.id, calendar_id, lock => true);
    SELECT * INTO old FROM voxbook.calendar_connections AS x WHERE x.org_id = o.id AND x.calendar_id = c.id FOR UPDATE;
    IF FOUND AND (old.url <> link OR old.username <> login) THEN
        -- Another calendar: what was imported from, and pushed to, the old one says nothing about it.
        DELETE FROM voxbook.blocked_periods AS b WHERE b.org_id = o.id AND b.connection_id = old.id;
        GET DIAGNOSTICS busy_removed = ROW_COUNT;
        DELETE FROM voxbook.calendar_pushes AS p WHERE p.org_id = o.id AND p.connection_id = old.id;
        UPDATE voxbook.calendar_connections AS x
           SET url = link, username = login, sync_token = NULL, ctag = NULL, expanded_until = NULL,
               last_full_sync_at = NULL, last_success_at = NULL, busy_imported = 0
         WHERE x.org_id = o.id AND x.id = old.id;
    END IF;
    INSERT INTO voxbook.calendar_connections AS x (org_id, calendar_id, url, username, secret_ciphertext, key_id,
                                                   event_title, patient_name, connected_by, next_attempt_at,
                                                   created_at, updated_at)
    VALUES (o.id, c.id, link, login, cipher, connect_calendar.key_id, title, policy, who, now_ts, now_ts, now_ts)
    ON CONFLICT ON CONSTRAINT calendar_connections_one_per_provider DO UPDATE
       SET secret_ciphertext = excluded.secret_ciphertext, key_id = excluded.key_id,
           event_title = excluded.event_title, patient_name = excluded.patient_name,
           connected_by = excluded.connected_by, next_attempt_at = excluded.next_attempt_at,
           consecutive_failures = 0, last_error_class = NULL, last_error = NULL, updated_at = excluded.updated_at
    RETURNING x.* INTO cc;
    PERFORM internal.audit(o.id, changed_by, 'connect_calendar', 'provider', c.id,
                           CASE WHEN old.id IS NOT NULL THEN jsonb_build_object('url', old.url, 'username', old.username,
                               'event_title', old.event_title, 'patient_name', old.patient_name) END,
                           jsonb_build_object('url', cc.url, 'username', cc.username, 'event_title', cc.event_title,
                                              'patient_name', cc.patient_name, 'key_id', cc.key_id));
    PERFORM internal.notify('voxbook_calendar');   -- a wake-up for the sync worker (it polls as well)
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'created', old.id IS NULL,
                              'busy_removed', busy_removed,
                              'connection', internal.calendar_connection_json(cc, o.time_zone, now_ts));
END
$_$;

-- Name: FUNCTION connect_calendar(org_id uuid, calendar_id text, url text, username text, secret_ciphertext text, key_id text, event_title text, patient_name text, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.connect_calendar(org_id uuid, calendar_id text, url text, username text, secret_ciphertext text, key_id text, event_title text, patient_name text, changed_by text) IS 'Connects a provider to a CalDAV calendar (one per provider; again = replaces the credentials, title and
policy). The sync worker then pushes every confirmed appointment of the provider there as an event and imports
the calendar''s busy time as blocks (availability and claims honour it). The password or app password is passed
encrypted only (secret_ciphertext: Fernet with VOXBOOK_SECRETS_KEY, which the database never sees; key_id names
the key): use voxbook calendar connect, which also tests the connection first (bad credentials, not a calendar,
no write permission, unreachable). Another url or username than before drops what was imported from the old
calendar ("busy_removed") and pushes to the new one afresh. event_title: a template with {service}, {provider}
and {patient} (default ''{service}''); patient_name: none (default), first or full. Audited (never the secret).
Returns {"success": true, "org_id", "created", "busy_removed", "connection": <as api.list_calendar_connections>}.
Errors: VB404 unknown org or calendar; VB400 a missing argument, a url that is not http(s) or has user:password@ in
it, a malformed
username, a ciphertext that is not a Fernet token (a plaintext password is refused, not stored), a malformed
key_id, an event_title over 200 characters or with an unknown {placeholder}, a patient_name policy not
none/first/full.
Example: SELECT api.connect_calendar(''a0000000-0000-0000-0000-000000000001'', ''cal-smith'',
''https://cloud.example.com/remote.php/dav/calendars/smith/personal/'', ''smith'', ''gAAAAAB...'', ''3f2a9c0d1e4b'');';

-- Name: create_clinic(text, text, text, text, text, text[], text, text, jsonb, text, uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.create_clinic(name text, phone text, time_zone text, country text DEFAULT 'US'::text, locale text DEFAULT NULL::text, languages text[] DEFAULT NULL::text[], hot_lead_phone text DEFAULT NULL::text, sms_from text DEFAULT NULL::text, settings jsonb DEFAULT NULL::jsonb, changed_by text DEFAULT NULL::text, org_id uuid DEFAULT NULL::uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations;
    blank voxbook.organizations;
BEGIN
    PERFORM internal.require(name, 'name');
    PERFORM internal.require(phone, 'phone');
    PERFORM internal.require(time_zone, 'time_zone');
    PERFORM internal.require(country, 'country');
    IF create_clinic.org_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM voxbook.organizations AS x WHERE x.id = create_clinic.org_id) THEN
        PERFORM internal.fail('VB409', 'a clinic with this org_id exists',
                              'Leave org_id out to get a new id, or change that clinic with api.update_clinic.');
    END IF;
    -- The defaults of the table, then what was given.
    o.id := coalesce(create_clinic.org_id, gen_random_uuid());
    o := internal.apply_clinic(o, name, phone, time_zone, country, locale, languages, hot_lead_phone, sms_from, settings);
    IF o.locale IS NULL THEN
        o.locale := internal.derive_locale(o.country, o.languages);
    END IF;
    IF o.languages IS NULL THEN
        o.languages := ARRAY[split_part(o.locale, '-', 1)];
    ELSIF NOT split_part(o.locale, '-', 1) = ANY (o.languages) THEN
        PERFORM internal.fail('VB400', format('languages must include %s, the language of locale %s',
                                              split_part(o.locale, '-', 1), o.locale),
                              'A clinic always offers its own language: add it to languages, or change locale.');
    END IF;
    o := internal.store_clinic(o, blank);
    PERFORM internal.audit(o.id, changed_by, 'create_clinic', 'clinic', o.id::text, NULL, internal.clinic_row(o));
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'clinic', internal.clinic_json(o));
END
$$;

-- Name: FUNCTION create_clinic(name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb, changed_by text, org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.create_clinic(name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb, changed_by text, org_id uuid) IS 'Creates a clinic: name, phone (the number callers dial: E.164, or national as dialled in country), time_zone
(IANA, e.g. America/New_York), country (ISO 3166 alpha-2, default US; sets the calling code), locale (BCP 47,
one of voxbook.locale_formats; default: the first of languages, else English, in country: en-US, en-GB,
es-MX), languages (ISO 639, default the locale''s; always includes it), hot_lead_phone (the owner''s alert
number), sms_from (the SMS sender; NULL = the carrier''s default), settings (jsonb of organizations settings:
hold_minutes, code_length, max_code_attempts, max_code_sends, min_notice_minutes, cancellation_notice_minutes,
booking_horizon_days, reminder_hours, hot_lead_threshold, help_text, allowed_sms_calling_codes, the code_* rate
limits; others keep the table''s defaults), changed_by (for the audit log; default: the database user), org_id
(optional: a fixed id, e.g. the demo''s). Not one clinic''s function yet, so org_id is not first (the listed
exception). Recorded in voxbook.audit_log.
Returns {"success": true, "org_id", "clinic": <api.get_clinic>}.
Errors: VB400 a value missing or invalid (unknown time zone, country, locale or setting, malformed phone,
a setting out of range: the HINT gives the allowed range); VB409 another clinic has this phone, or this org_id.
Example: SELECT api.create_clinic(''Bright Smile'', ''+1 555 123 4567'', ''America/New_York'', languages => ''{en,es}'');';

-- Name: dashboard_calendars(uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.dashboard_calendars(org_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    loc constant jsonb := internal.field_locale(o.locale);
    connections constant jsonb := api.list_calendar_connections(o.id)->'connections';
    conflicts constant jsonb := api.list_calendar_conflicts(o.id)->'conflicts';
    c record;
    cc jsonb;
    k jsonb;
    providers jsonb := '[]';
    conflicts_out jsonb := '[]';
BEGIN
    FOR c IN SELECT x.id, x.display_name, x.active FROM voxbook.calendars AS x
              WHERE x.org_id = o.id ORDER BY x.display_name, x.id LOOP
        SELECT e INTO cc FROM jsonb_array_elements(connections) AS e WHERE e->>'calendar_id' = c.id;
        IF cc IS NOT NULL THEN
            cc := cc || jsonb_build_object(
                'local_last_success', internal.local_text_iso(cc->>'last_success_at', o.time_zone, loc),
                'local_last_attempt', internal.local_text_iso(cc->>'last_attempt_at', o.time_zone, loc),
                'local_next_attempt', internal.local_text_iso(cc->>'next_attempt_at', o.time_zone, loc),
                'local_connected_at', internal.local_text_iso(cc->>'connected_at', o.time_zone, loc));
        END IF;
        providers := providers || jsonb_build_array(jsonb_build_object(
            'calendar_id', c.id, 'provider', c.display_name, 'active', c.active, 'connection', cc));
        cc := NULL;
    END LOOP;
    FOR k IN SELECT x FROM jsonb_array_elements(conflicts) AS x LOOP
        conflicts_out := conflicts_out || jsonb_build_array(k || jsonb_build_object(
            'local_time', internal.local_text_iso(k->>'starts_at', o.time_zone, loc),
            'local_end', internal.local_clock((k->>'ends_at')::timestamptz, o.time_zone, loc),
            'local_busy_start', internal.local_text_iso(k->>'busy_starts_at', o.time_zone, loc),
            'local_busy_end', internal.local_text_iso(k->>'busy_ends_at', o.time_zone, loc)));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'time_zone', o.time_zone, 'locale', o.locale,
                              'providers', providers, 'conflicts', conflicts_out);
END
$$;

-- Name: FUNCTION dashboard_calendars(org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.dashboard_calendars(org_id uuid) IS 'The dashboard''s Calendars page: every provider of the clinic with its connected CalDAV calendar''s health (or null:
not connected), and the conflicts (busy time in a provider''s own calendar over a confirmed appointment; nothing
was cancelled, staff decide), times in the clinic''s zone and locale.
Returns {"success": true, "org_id", "time_zone", "locale", "providers": [{"calendar_id", "provider", "active",
"connection": <an item of api.list_calendar_connections> + "local_last_success", "local_last_attempt",
"local_next_attempt", "local_connected_at" | null}], "conflicts": [<an item of api.list_calendar_conflicts, its
"local_time" in the clinic''s locale> + "local_end", "local_busy_start", "local_busy_end"]}. Never the secret.
Errors: VB404 unknown org.
Example: SELECT api.dashboard_calendars(''a0000000-0000-0000-0000-000000000001'');';

-- Name: dashboard_changes(uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.dashboard_changes(org_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    newest timestamptz;
    appointments_mark text;
    blocks_mark text;
    hours_mark text;
    holds_mark text;
    callbacks int;
    inbox int;
    waiting int;
    problems int;
BEGIN
    -- Each one index probe or a clinic's few rows: appointments_changed (0031); the live holds by
    -- holds_live_expiry; blocks and exceptions are few; the queues' partial indexes of open rows.
    -- The newest change, and every row changed within 10 s before it, by content: a transaction that stamped its
    -- rows a moment before another's but committed after it (statement_timeout bounds that to seconds) still
    -- changes the marker, and rows leave the set only when a newer change comes (no change seen twice).
    SELECT max(a.updated_at) INTO newest FROM voxbook.appointments AS a WHERE a.org_id = o.id;
    SELECT newest || ':' || coalesce(md5(string_agg(concat_ws(',', a.id, a.updated_at, a.status, a.hold_id, a.attendance),
                                                   ';' ORDER BY a.id)), '')
      INTO appointments_mark
      FROM voxbook.appointments AS a WHERE a.org_id = o.id AND a.updated_at >= newest - interval '10 seconds';
    SELECT count(*) || ':' || coalesce(max(b.id), 0) || ':' || coalesce(sum(b.id), 0) INTO blocks_mark
      FROM voxbook.blocked_periods AS b WHERE b.org_id = o.id;
    SELECT count(*) || ':' || coalesce(md5(string_agg(e.id::text || e.on_date, ',' ORDER BY e.id)), '') INTO hours_mark
      FROM voxbook.hours_exceptions AS e WHERE e.org_id = o.id AND e.on_date >= (now_ts AT TIME ZONE o.time_zone)::date - 7;
    SELECT coalesce(md5(string_agg(h.id::text || coalesce(h.otp_sent_at::text, ''), ',' ORDER BY h.id)), '') INTO holds_mark
      FROM voxbook.holds AS h WHERE h.org_id = o.id AND h.status = 'held' AND h.expires_at > now_ts;
    SELECT count(*) INTO callbacks FROM voxbook.callback_requests AS r WHERE r.org_id = o.id AND r.status = 'open';
    SELECT count(*) INTO inbox FROM voxbook.sms_inbox AS i WHERE i.org_id = o.id AND i.status = 'open';
    SELECT count(*) INTO waiting FROM voxbook.waitlist AS w WHERE w.org_id = o.id AND w.status = 'waiting';
    SELECT count(*) INTO problems FROM voxbook.sms_outbox AS m
     WHERE m.org_id = o.id AND m.created_at >= now_ts - interval '7 days' AND m.status IN ('failed', 'undelivered')
       AND m.kind <> 'otp'   -- a code is never resent; skipped texts (opted out, appointment gone) need no one
       AND NOT EXISTS (SELECT 1 FROM voxbook.sms_outbox AS r WHERE r.org_id = m.org_id AND r.resent_from = m.id);
    RETURN jsonb_build_object(
        'success', true, 'org_id', o.id, 'server_time', internal.utc_iso(now_ts),
        'schedule', md5(concat_ws('|', appointments_mark, blocks_mark, hours_mark, holds_mark)),
        'holds', md5(holds_mark),
        'counts', jsonb_build_object('callbacks', callbacks, 'sms_inbox', inbox, 'waitlist', waiting,
                                     'failed_sms', problems),
        'queues', md5(concat_ws('|', callbacks, inbox, waiting, problems)));
END
$$;

-- Name: FUNCTION dashboard_changes(org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.dashboard_changes(org_id uuid) IS 'Markers of what the dashboard shows, cheap enough to poll every few seconds per open clinic: "schedule" changes
when an appointment is booked, moved, cancelled or marked, a hold comes or goes, time is blocked or unblocked, or
a day''s hours change; "holds" when the live holds change; "queues" when the counts change. Compare with the
previous answer; the values mean nothing else. "counts" are the open queues'' sizes (the nav''s badges).
Returns {"success": true, "org_id", "server_time", "schedule", "holds", "queues", "counts": {"callbacks",
"sms_inbox", "waitlist", "failed_sms" (failed or undelivered in the last 7 days, not a code, not resent)}}. Errors: VB404 unknown org.
Example: SELECT api.dashboard_changes(''a0000000-0000-0000-0000-000000000001'');';

-- Name: dashboard_hot_lead(uuid, uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.dashboard_hot_lead(org_id uuid, alert_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    a voxbook.hot_lead_alerts;
BEGIN
    PERFORM internal.require_org(org_id);
    PERFORM internal.require(alert_id, 'alert_id');
    SELECT * INTO a FROM voxbook.hot_lead_alerts AS x
     WHERE x.org_id = dashboard_hot_lead.org_id AND x.id = dashboard_hot_lead.alert_id;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown hot-lead alert', 'alert_id comes from the voxbook_hot_lead notification of this clinic.');
    END IF;
    RETURN jsonb_build_object('success', true) || internal.dashboard_call_json(a.org_id, a.call_id);
END
$$;

-- Name: FUNCTION dashboard_hot_lead(org_id uuid, alert_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.dashboard_hot_lead(org_id uuid, alert_id uuid) IS 'One hot lead by alert id, in the shape of api.dashboard_hot_leads'' items plus "success": what the
dashboard pushes to browsers when NOTIFY voxbook_hot_lead ({"org_id", "alert_id"}) arrives.
Errors: VB404 unknown org or alert (an alert of another clinic is unknown).';

-- Name: dashboard_hot_leads(uuid, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.dashboard_hot_leads(org_id uuid, max_leads integer DEFAULT 50) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    a record;
    leads jsonb := '[]';
BEGIN
    IF max_leads IS NULL OR max_leads NOT BETWEEN 1 AND 500 THEN
        PERFORM internal.fail('VB400', 'max_leads must be between 1 and 500', 'Leave it out for the 50 newest.');
    END IF;
    -- A loop, not internal.dashboard_call_json per row of a query: on Citus that nests a distributed query.
    FOR a IN SELECT x.org_id, x.call_id FROM voxbook.hot_lead_alerts AS x
              WHERE x.org_id = o.id ORDER BY x.created_at DESC, x.id LIMIT max_leads
    LOOP
        leads := leads || jsonb_build_array(internal.dashboard_call_json(a.org_id, a.call_id));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'threshold', o.hot_lead_threshold, 'leads', leads);
END
$$;

-- Name: FUNCTION dashboard_hot_leads(org_id uuid, max_leads integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.dashboard_hot_leads(org_id uuid, max_leads integer) IS 'A clinic''s hot leads, newest first (at most max_leads, 1-500):
{"success": true, "org_id", "threshold", "leads": [{"alert_id", "call_id" (Vapi''s call id), "name",
"phone_masked", "has_phone", "service", "service_name", "score", "reasons": [{"factor", "points",
"detail"}], "hot", "booked", "appointment": {"appointment_id", "status", "provider", "local_time"} | null,
"summary", "duration_seconds", "created_at" (UTC), "local_time", "acknowledged"}]}.
Phone numbers are masked: api.dashboard_reveal_phone gives one in full. Errors: VB404 unknown org;
VB400 max_leads out of range.
Example: SELECT api.dashboard_hot_leads(''a0000000-0000-0000-0000-000000000001'', 10);';

-- Name: dashboard_hub_changes(uuid[]); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.dashboard_hub_changes(org_ids uuid[]) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    now_ts constant timestamptz := internal.clock();
    known uuid[];          -- the clinics that exist, in id order
    since date[];          -- per clinic (same order): the first day whose hours exceptions count
    newest timestamptz[] := '{}';   -- per clinic: its newest appointment change (NULL: none)
    one timestamptz;
    org uuid;
    appointments_marks jsonb;
    blocks_marks jsonb;
    hours_marks jsonb;
    holds_marks jsonb;
    callbacks jsonb;
    inbox jsonb;
    waiting jsonb;
    problems jsonb;
    a_mark text;
    h_mark text;
    q int[];
    clinics jsonb := '{}';
BEGIN
    IF org_ids IS NULL OR cardinality(org_ids) > 1000 THEN
        PERFORM internal.fail('VB400', 'org_ids must be an array of at most 1000 clinic ids',
                              'Pass the clinics with an open dashboard stream, in batches of 1000 at most.');
    END IF;
    SELECT array_agg(o.id ORDER BY o.id), array_agg((now_ts AT TIME ZONE o.time_zone)::date - 7 ORDER BY o.id)
      INTO known, since
      FROM voxbook.organizations AS o WHERE o.id = ANY (org_ids);
    IF known IS NULL THEN
        RETURN jsonb_build_object('success', true, 'server_time', internal.utc_iso(now_ts), 'clinics', clinics);
    END IF;
    FOREACH org IN ARRAY known LOOP
        SELECT max(a.updated_at) INTO one FROM voxbook.appointments AS a WHERE a.org_id = org;
        newest := newest || one;
    END LOOP;
    SELECT jsonb_object_agg(x.org_id, x.mark) INTO appointments_marks FROM (
        SELECT a.org_id, max(n.newest) || ':' || coalesce(md5(string_agg(
                   concat_ws(',', a.id, a.updated_at, a.status, a.hold_id, a.attendance), ';' ORDER BY a.id)), '') AS mark
          FROM unnest(known, newest) AS n(org_id, newest)
          JOIN voxbook.appointments AS a ON a.org_id = n.org_id AND a.updated_at >= n.newest - interval '10 seconds'
         GROUP BY a.org_id) AS x;
    SELECT jsonb_object_agg(x.org_id, x.mark) INTO blocks_marks FROM (
        SELECT b.org_id, count(*) || ':' || coalesce(max(b.id), 0) || ':' || coalesce(sum(b.id), 0) AS mark
          FROM voxbook.blocked_periods AS b WHERE b.org_id = ANY (known) GROUP BY b.org_id) AS x;
    SELECT jsonb_object_agg(x.org_id, x.mark) INTO hours_marks FROM (
        SELECT e.org_id, count(*) || ':' || coalesce(md5(string_agg(e.id::text || e.on_date, ',' ORDER BY e.id)), '') AS mark
          FROM unnest(known, since) AS n(org_id, since)
          JOIN voxbook.hours_exceptions AS e ON e.org_id = n.org_id AND e.on_date >= n.since
         GROUP BY e.org_id) AS x;
    SELECT jsonb_object_agg(x.org_id, x.mark) INTO holds_marks FROM (
        SELECT h.org_id, md5(string_agg(h.id::text || coalesce(h.otp_sent_at::text, ''), ',' ORDER BY h.id)) AS mark
          FROM voxbook.holds AS h WHERE h.org_id = ANY (known) AND h.status = 'held' AND h.expires_at > now_ts
         GROUP BY h.org_id) AS x;
    SELECT jsonb_object_agg(x.org_id, x.n) INTO callbacks FROM (
        SELECT r.org_id, count(*) AS n FROM voxbook.callback_requests AS r
         WHERE r.org_id = ANY (known) AND r.status = 'open' GROUP BY r.org_id) AS x;
    SELECT jsonb_object_agg(x.org_id, x.n) INTO inbox FROM (
        SELECT i.org_id, count(*) AS n FROM voxbook.sms_inbox AS i
         WHERE i.org_id = ANY (known) AND i.status = 'open' GROUP BY i.org_id) AS x;
    SELECT jsonb_object_agg(x.org_id, x.n) INTO waiting FROM (
        SELECT w.org_id, count(*) AS n FROM voxbook.waitlist AS w
         WHERE w.org_id = ANY (known) AND w.status = 'waiting' GROUP BY w.org_id) AS x;
    SELECT jsonb_object_agg(x.org_id, x.n) INTO problems FROM (
        SELECT m.org_id, count(*) AS n FROM voxbook.sms_outbox AS m
         WHERE m.org_id = ANY (known) AND m.created_at >= now_ts - interval '7 days'
           AND m.status IN ('failed', 'undelivered') AND m.kind <> 'otp'
           AND NOT EXISTS (SELECT 1 FROM voxbook.sms_outbox AS r WHERE r.org_id = m.org_id AND r.resent_from = m.id)
         GROUP BY m.org_id) AS x;
    -- A clinic without rows in a table gets what api.dashboard_changes gets over no rows.
    FOREACH org IN ARRAY known LOOP
        a_mark := appointments_marks->>org::text;
        h_mark := coalesce(holds_marks->>org::text, '');
        q := ARRAY[coalesce((callbacks->>org::text)::int, 0), coalesce((inbox->>org::text)::int, 0),
                   coalesce((waiting->>org::text)::int, 0), coalesce((problems->>org::text)::int, 0)];
        clinics := clinics || jsonb_build_object(org::text, jsonb_build_object(
            'org_id', org,
            'schedule', md5(concat_ws('|', a_mark, coalesce(blocks_marks->>org::text, '0:0:0'),
                                      coalesce(hours_marks->>org::text, '0:'), h_mark)),
            'holds', md5(h_mark),
            'counts', jsonb_build_object('callbacks', q[1], 'sms_inbox', q[2], 'waitlist', q[3], 'failed_sms', q[4]),
            'queues', md5(concat_ws('|', q[1], q[2], q[3], q[4]))));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'server_time', internal.utc_iso(now_ts), 'clinics', clinics);
END
$$;

-- Name: FUNCTION dashboard_hub_changes(org_ids uuid[]); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.dashboard_hub_changes(org_ids uuid[]) IS 'For the dashboard''s hub (the server''s own process), not a page: api.dashboard_changes for many clinics in one call
-- it takes many because the hub polls every clinic with an open stream every few seconds, and one call for all
of them costs one round trip and one read of each table instead of one call per clinic. Each clinic''s "schedule",
"holds", "queues" and "counts" are exactly api.dashboard_changes'' for it. A clinic that does not exist is left out
(the hub forgets it). Returns {"success": true, "server_time", "clinics": {"<org_id>": {"org_id", "schedule",
"holds", "queues", "counts": {"callbacks", "sms_inbox", "waitlist", "failed_sms"}}}}.
Errors: VB400 org_ids NULL or more than 1000.
Example: SELECT api.dashboard_hub_changes(ARRAY[''a0000000-0000-0000-0000-000000000001'']::uuid[]);';

-- Name: dashboard_lead(uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.dashboard_lead(org_id uuid, call_id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    c voxbook.calls;
    alert_sms_status text;
BEGIN
    PERFORM internal.require(nullif(btrim(call_id), ''), 'call_id');
    SELECT * INTO c FROM voxbook.calls AS x WHERE x.org_id = o.id AND x.vapi_call_id = dashboard_lead.call_id;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown call', 'call_id is Vapi''s call id, as in api.dashboard_hot_leads.');
    END IF;
    -- Read apart, not as a subquery of the expression below: with it, that expression is one query on the
    -- shard on Citus, and internal.dashboard_call_json in it would nest a distributed query.
    SELECT m.status INTO alert_sms_status FROM voxbook.hot_lead_alerts AS a
      JOIN voxbook.sms_outbox AS m ON m.org_id = a.org_id AND m.id = a.sms_id
     WHERE a.org_id = c.org_id AND a.call_id = c.id;
    RETURN jsonb_build_object('success', true) || internal.dashboard_call_json(c.org_id, c.id)
        || jsonb_build_object('transcript', c.transcript, 'ended_reason', c.ended_reason,
                              'started_at', internal.utc_iso(c.started_at), 'ended_at', internal.utc_iso(c.ended_at),
                              'local_started', internal.local_text(c.started_at, o.time_zone,
                                                                   internal.field_locale(o.locale)),
                              'alert_sms_status', alert_sms_status);
END
$$;

-- Name: FUNCTION dashboard_lead(org_id uuid, call_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.dashboard_lead(org_id uuid, call_id text) IS 'One call, by call_id (Vapi''s call.id), with everything the lead view shows: the fields of
api.dashboard_hot_leads'' items plus "transcript", "ended_reason", "started_at", "ended_at", "local_started"
and "alert_sms_status" (the owner''s hot-lead SMS). Works for any recorded call of the clinic, hot or not. Phone masked.
Errors: VB404 unknown org or call; VB400 missing call_id.
Example: SELECT api.dashboard_lead(''a0000000-0000-0000-0000-000000000001'', ''call-123'');';

-- Name: dashboard_live_holds(uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.dashboard_live_holds(org_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    loc constant jsonb := internal.field_locale(o.locale);   -- the clinic's way of writing times
BEGIN
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'server_time', internal.utc_iso(now_ts), 'holds', (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'hold_id', h.id, 'calendar_id', h.calendar_id, 'provider', c.display_name,
                   'starts_at', internal.utc_iso(h.starts_at), 'local_time', internal.local_text(h.starts_at, o.time_zone, loc),
                   'expires_at', internal.utc_iso(h.expires_at),
                   'seconds_left', greatest(ceil(extract(epoch FROM h.expires_at - now_ts))::int, 0),
                   'patient_name', h.patient_name, 'phone_masked', internal.mask_phone(h.patient_phone),
                   'service', h.service_id, 'service_name', s.name,
                   'code_sent', h.otp_sent_at IS NOT NULL, 'code_attempts', h.otp_attempts,
                   'on_call', h.vapi_call_id IS NOT NULL)
                 ORDER BY h.expires_at, h.id), '[]')
          FROM voxbook.holds AS h
          JOIN voxbook.calendars AS c ON c.org_id = h.org_id AND c.id = h.calendar_id
          LEFT JOIN voxbook.services AS s ON s.org_id = h.org_id AND s.id = h.service_id
         WHERE h.org_id = o.id AND h.status = 'held' AND h.expires_at > now_ts));
END
$$;

-- Name: FUNCTION dashboard_live_holds(org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.dashboard_live_holds(org_id uuid) IS 'Holds the phone assistant has on the clinic''s calendars right now (live: status held, not expired),
soonest to expire first: {"success": true, "org_id", "server_time", "holds": [{"hold_id", "calendar_id",
"provider", "starts_at", "local_time", "expires_at", "seconds_left", "patient_name", "phone_masked",
"service", "service_name", "code_sent", "code_attempts", "on_call"}]}. Errors: VB404 unknown org.
Example: SELECT api.dashboard_live_holds(''a0000000-0000-0000-0000-000000000001'');';

-- Name: dashboard_login(text, text, uuid, uuid, text, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.dashboard_login(email text, client_address text, org_id uuid DEFAULT NULL::uuid, staff_id uuid DEFAULT NULL::uuid, password_rehash text DEFAULT NULL::text, session_hours integer DEFAULT 12) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    e text := lower(btrim(coalesce(email, '')));
    email_hash bytea := internal.token_hash(e);
    address text := internal.client_address(client_address);
    refused jsonb := internal.sign_in_refusal(email_hash, address);
    s voxbook.staff_accounts;
BEGIN
    -- Checked again: attempts made in parallel all passed the first step before any was counted.
    IF refused IS NOT NULL THEN
        RETURN refused;
    END IF;
    IF staff_id IS NOT NULL THEN
        SELECT * INTO s FROM voxbook.staff_accounts AS x
         WHERE x.org_id = dashboard_login.org_id AND x.id = dashboard_login.staff_id AND x.email = e
           AND x.status = 'active';
    END IF;
    IF s.id IS NULL THEN
        PERFORM internal.record_sign_in(email_hash, address, false);
        RETURN internal.refusal('invalid_credentials', 'Wrong email or password');
    END IF;
    PERFORM internal.record_sign_in(email_hash, address, true);
    IF password_rehash IS NOT NULL THEN   -- argon2's parameters changed since the hash was made
        UPDATE voxbook.staff_accounts AS x SET password_hash = password_rehash
         WHERE x.org_id = s.org_id AND x.id = s.id;
    END IF;
    RETURN internal.open_session(s, session_hours);
END
$$;

-- Name: FUNCTION dashboard_login(email text, client_address text, org_id uuid, staff_id uuid, password_rehash text, session_hours integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.dashboard_login(email text, client_address text, org_id uuid, staff_id uuid, password_rehash text, session_hours integer) IS 'Second step of a dashboard sign-in: the outcome of the password check the api layer made against
api.dashboard_login_accounts'' hashes. Without staff_id (no account matched): the failure is counted and
{"success": false, "code": "invalid_credentials", "error"} returned. With org_id and staff_id of the
account whose hash matched: a session for it (the secret goes in the HttpOnly cookie; only its sha256 is
stored) {"success": true, "session", "org_id", "clinic", "staff_id", "name", "role", "expires_at"};
password_rehash replaces the stored hash (argon2 parameters changed). Refused like the first step while
rate-limited (too_many_attempts, retry_after_seconds). Errors: VB400 session_hours outside 1-168.
Example: SELECT api.dashboard_login(''ana@clinic.example'', ''203.0.113.7'');   -- a failed attempt';

-- Name: dashboard_login_accounts(text, text, uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.dashboard_login_accounts(email text, client_address text, org_id uuid DEFAULT NULL::uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    e text := lower(btrim(coalesce(email, '')));
    refused jsonb := internal.sign_in_refusal(internal.token_hash(e), internal.client_address(client_address));
    accounts jsonb;
BEGIN
    IF refused IS NOT NULL THEN
        RETURN refused;
    END IF;
    SELECT coalesce(jsonb_agg(jsonb_build_object('org_id', s.org_id, 'staff_id', s.id, 'clinic', o.name,
                                                 'password_hash', s.password_hash) ORDER BY o.name, s.org_id), '[]')
      INTO accounts
      FROM voxbook.staff_accounts AS s
      JOIN voxbook.organizations AS o ON o.id = s.org_id
     WHERE s.email = e AND s.status = 'active'
       AND (dashboard_login_accounts.org_id IS NULL OR s.org_id = dashboard_login_accounts.org_id);
    RETURN jsonb_build_object('success', true, 'accounts', accounts);
END
$$;

-- Name: FUNCTION dashboard_login_accounts(email text, client_address text, org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.dashboard_login_accounts(email text, client_address text, org_id uuid) IS 'First step of a dashboard sign-in (api/dashboard_auth.py): the rate limit, then the active accounts of the
email (optionally of one clinic) with their argon2id hashes, for the api layer to verify the password
against. {"success": true, "accounts": [{"org_id", "staff_id", "clinic", "password_hash"}]} (empty for an
unknown email: verify against a dummy hash all the same) or {"success": false, "code": "too_many_attempts",
"error", "retry_after_seconds"} (5 failures of the email or 30 of the address, an IPv6 one''s /64, within 15
minutes). Reads only.
Then call api.dashboard_login with the outcome.
Example: SELECT api.dashboard_login_accounts(''ana@clinic.example'', ''203.0.113.7'');';

-- Name: dashboard_logout(text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.dashboard_logout(session text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    n int;
BEGIN
    DELETE FROM voxbook.dashboard_sessions AS s
     WHERE s.session_hash = internal.token_hash(coalesce(dashboard_logout.session, ''));
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN jsonb_build_object('success', true, 'ended', n > 0);
END
$$;

-- Name: FUNCTION dashboard_logout(session text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.dashboard_logout(session text) IS 'Ends a dashboard session. Idempotent: {"success": true, "ended": true|false}.';

-- Name: dashboard_queues(uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.dashboard_queues(org_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    -- Each list read once into a variable (not per row of a query: Citus).
    callbacks constant jsonb := api.list_callback_requests(o.id)->'callback_requests';
    inbox constant jsonb := api.list_sms_inbox(o.id)->'items';
    waiting constant jsonb := api.list_waitlist(o.id)->'entries';
    item jsonb;
    masked text;
    callbacks_out jsonb := '[]';
    inbox_out jsonb := '[]';
    waiting_out jsonb := '[]';
BEGIN
    FOR item IN SELECT x FROM jsonb_array_elements(callbacks) AS x LOOP
        callbacks_out := callbacks_out || jsonb_build_array(item - 'phone' - 'phone_display'
            || jsonb_build_object('phone_masked', internal.mask_phone(item->>'phone')));
    END LOOP;
    FOR item IN SELECT x FROM jsonb_array_elements(inbox) AS x LOOP
        inbox_out := inbox_out || jsonb_build_array(item - 'phone' - 'phone_display'
            || jsonb_build_object('phone_masked', internal.mask_phone(item->>'phone')));
    END LOOP;
    -- The waitlist's list has the number as the clinic writes it only: masked from the row's E.164.
    FOR item IN SELECT x FROM jsonb_array_elements(waiting) AS x LOOP
        SELECT internal.mask_phone(w.phone) INTO masked FROM voxbook.waitlist AS w
         WHERE w.org_id = o.id AND w.id = (item->>'waitlist_id')::uuid;
        waiting_out := waiting_out || jsonb_build_array(item - 'phone' || jsonb_build_object('phone_masked', masked));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'callback_requests', callbacks_out,
                              'inbox', inbox_out, 'waitlist', waiting_out);
END
$$;

-- Name: FUNCTION dashboard_queues(org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.dashboard_queues(org_id uuid) IS 'The front desk''s queues with callers'' numbers masked: the open callback requests (api.list_callback_requests),
the open SMS replies (api.list_sms_inbox) and the waiting waitlist (api.list_waitlist), each item as those
functions give it but with "phone" (and "phone_display") replaced by "phone_masked" ("(***) ***-0001"; null: no
number). api.dashboard_reveal_phone(org_id, callback_request_id | inbox_id | waitlist_id => ...) gives one in full.
Returns {"success": true, "org_id", "callback_requests": [...], "inbox": [...], "waitlist": [...]}.
Errors: VB404 unknown org.
Example: SELECT api.dashboard_queues(''a0000000-0000-0000-0000-000000000001'');';

-- Name: dashboard_reveal_phone(uuid, text, uuid, uuid, uuid, uuid, uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.dashboard_reveal_phone(org_id uuid, call_id text DEFAULT NULL::text, appointment_id uuid DEFAULT NULL::uuid, hold_id uuid DEFAULT NULL::uuid, callback_request_id uuid DEFAULT NULL::uuid, inbox_id uuid DEFAULT NULL::uuid, waitlist_id uuid DEFAULT NULL::uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    phone text;
BEGIN
    IF num_nonnulls(call_id, appointment_id, hold_id, callback_request_id, inbox_id, waitlist_id) <> 1 THEN
        PERFORM internal.fail('VB400', 'pass exactly one of call_id, appointment_id, hold_id, callback_request_id, inbox_id, waitlist_id',
                              'Name the row whose number to show.');
    END IF;
    -- Every lookup by the clinic's org_id: another clinic's id finds nothing (VB404 below).
    IF call_id IS NOT NULL THEN
        SELECT c.customer_phone INTO phone FROM voxbook.calls AS c
         WHERE c.org_id = o.id AND c.vapi_call_id = dashboard_reveal_phone.call_id;
    ELSIF appointment_id IS NOT NULL THEN
        SELECT ct.phone INTO phone FROM voxbook.appointments AS a
          JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
         WHERE a.org_id = o.id AND a.id = dashboard_reveal_phone.appointment_id;
    ELSIF hold_id IS NOT NULL THEN
        SELECT h.patient_phone INTO phone FROM voxbook.holds AS h
         WHERE h.org_id = o.id AND h.id = dashboard_reveal_phone.hold_id;
    ELSIF callback_request_id IS NOT NULL THEN
        SELECT r.phone INTO phone FROM voxbook.callback_requests AS r
         WHERE r.org_id = o.id AND r.id = dashboard_reveal_phone.callback_request_id;
    ELSIF inbox_id IS NOT NULL THEN
        SELECT i.phone INTO phone FROM voxbook.sms_inbox AS i
         WHERE i.org_id = o.id AND i.id = dashboard_reveal_phone.inbox_id;
    ELSE
        SELECT w.phone INTO phone FROM voxbook.waitlist AS w
         WHERE w.org_id = o.id AND w.id = dashboard_reveal_phone.waitlist_id;
    END IF;
    IF phone IS NULL THEN
        PERFORM internal.fail('VB404', 'no phone number for that row', 'Use an id shown on this clinic''s dashboard.');
    END IF;
    RETURN jsonb_build_object('success', true, 'phone', phone, 'display', internal.display_phone(phone, o.country));
END
$$;

-- Name: FUNCTION dashboard_reveal_phone(org_id uuid, call_id text, appointment_id uuid, hold_id uuid, callback_request_id uuid, inbox_id uuid, waitlist_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.dashboard_reveal_phone(org_id uuid, call_id text, appointment_id uuid, hold_id uuid, callback_request_id uuid, inbox_id uuid, waitlist_id uuid) IS 'The full number behind a masked one on the dashboard, for exactly one of call_id (Vapi''s), appointment_id,
hold_id, callback_request_id, inbox_id (an SMS reply) or waitlist_id (the queues page, api.dashboard_queues):
{"success": true, "phone" (E.164), "display"}. Errors: VB404 unknown org or row (another clinic''s included), or no
number; VB400 not exactly one id.
Example: SELECT api.dashboard_reveal_phone(''a0000000-0000-0000-0000-000000000001'', waitlist_id => ''<waitlist_id>'');';

-- Name: dashboard_schedule(uuid, date, integer, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.dashboard_schedule(org_id uuid, from_date date DEFAULT NULL::date, days integer DEFAULT 2, calendar_id text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $_$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    today date := (now_ts AT TIME ZONE o.time_zone)::date;
    first_day date := coalesce(from_date, today);
    loc constant jsonb := internal.field_locale(o.locale);
    d date;
    c record;
    providers jsonb;
    hours jsonb;
    blocks jsonb;
    closures jsonb;
    day_list jsonb := '[]';
BEGIN
    PERFORM internal.require_date(from_date, 'from_date', optional => true);
    IF days IS NULL OR days NOT BETWEEN 1 AND 31 THEN
        PERFORM internal.fail('VB400', 'days must be between 1 and 31', 'Leave it out for today and tomorrow.');
    END IF;
    IF calendar_id IS NOT NULL THEN
        PERFORM internal.require_calendar(o.id, calendar_id);
    END IF;
    -- Loops, not internal.dashboard_day_entries per row of a query: on Citus that nests a distributed query.
    FOR i IN 0 .. days - 1 LOOP
        d := first_day + i;
        providers := '[]';
        closures := internal.dashboard_day_blocks(o, NULL, d, loc);
        FOR c IN SELECT x.id, x.display_name FROM voxbook.calendars AS x
                  WHERE x.org_id = o.id AND x.active
                    AND (dashboard_schedule.calendar_id IS NULL OR x.id = dashboard_schedule.calendar_id)
                  ORDER BY x.display_name, x.id
        LOOP
            SELECT coalesce(jsonb_agg(jsonb_build_array(internal.hhmm(w.starts), internal.hhmm(w.ends)) ORDER BY w.starts), '[]')
              INTO hours FROM internal.day_hours(o.id, c.id, d) AS w;
            blocks := internal.dashboard_day_blocks(o, c.id, d, loc);
            providers := providers || jsonb_build_array(jsonb_build_object(
                'calendar_id', c.id, 'provider', c.display_name,
                'entries', internal.dashboard_day_entries(o, c.id, d, now_ts),
                'hours', hours, 'blocks', blocks,
                'closed', jsonb_array_length(hours) = 0
                          OR jsonb_path_exists(blocks, '$[*] ? (@.whole_day == true)')));
        END LOOP;
        day_list := day_list || jsonb_build_array(jsonb_build_object(
            'date', d, 'label', to_char(d, 'FMDay, FMMonth FMDD'),
            'local_label', internal.local_day(d::timestamp AT TIME ZONE o.time_zone + interval '12 hours', o.time_zone, loc),
            'is_today', d = today, 'closures', closures,
            'closed', jsonb_path_exists(closures, '$[*] ? (@.whole_day == true)'),
            'providers', providers));
    END LOOP;
    RETURN jsonb_build_object(
        'success', true, 'org_id', o.id, 'time_zone', o.time_zone, 'locale', o.locale, 'today', today,
        'from_date', first_day, 'calendar_id', calendar_id,
        'server_time', internal.utc_iso(now_ts), 'days', day_list);
END
$_$;

-- Name: FUNCTION dashboard_schedule(org_id uuid, from_date date, days integer, calendar_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.dashboard_schedule(org_id uuid, from_date date, days integer, calendar_id text) IS 'A clinic''s schedule per provider for `days` local days (1-31, default 2: today and tomorrow; 7 from a Monday:
its week) from from_date (default: today in the clinic''s time zone), every active provider or only calendar_id.
Entries are the appointments whose time starts that day (status confirmed or cancelled) and live holds (status
held), in time order; each provider''s day has its working hours (exceptions applied), its blocked time and the
clinic''s closures, and "closed" when it has no hours or a block covers the whole day:
{"success": true, "org_id", "time_zone", "locale", "today", "from_date", "calendar_id", "server_time",
"days": [{"date", "label", "local_label" (as the clinic''s locale writes a day), "is_today", "closed" (a closure of
the whole clinic covers the day), "closures": [<block>], "providers": [{"calendar_id", "provider",
"hours": [["09:00", "12:00"], ...], "blocks": [{"block_id", "calendar_id" (null: the whole clinic), "reason",
"starts_at", "ends_at", "local_start", "local_end" (clipped to the day; "24:00"), "whole_day"}], "closed",
"entries": [{"kind": "appointment" | "hold", "appointment_id", "hold_id", "calendar_id", "local_date", "status",
"starts_at", "ends_at" (UTC), "local_start", "local_end", "patient_name", "phone_masked", "service",
"service_name", "confirmed_via", "patient_confirmed_at" (the patient replied C) and "may_not_come_at" (the
patient texted CANCEL) (UTC or null), "confirmation_sms" and "reminder_sms": {"message_id", "status",
"error_code", "send_after", "local_send_after", "updated_at"} | null, "attendance" (arrived | no_show | null),
"attendance_at", "attendance_by", "booked_by", "cancelled_by", "cancel_reason", "started" (appointments);
"expires_at" and "code_sent" (holds)}]}]}]}.
Errors: VB404 unknown org or calendar; VB400 days out of range, from_date infinite, before 2000 or over five years
ahead.
Example: SELECT api.dashboard_schedule(''a0000000-0000-0000-0000-000000000001'');
         SELECT api.dashboard_schedule(:org, ''2026-12-07'', 7, calendar_id => ''cal-smith'');   -- a provider''s week';

-- Name: dashboard_session(text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.dashboard_session(session text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    result jsonb;
BEGIN
    -- Role and status read here, at every request: a role change or a deactivation applies at the next one.
    SELECT jsonb_build_object('success', true, 'org_id', o.id, 'clinic', o.name, 'time_zone', o.time_zone,
                              'locale', o.locale, 'phone', internal.display_phone(o.phone, o.country),
                              'staff_id', st.id, 'staff_name', st.name, 'staff_email', st.email, 'role', st.role,
                              'expires_at', internal.utc_iso(s.expires_at))
      INTO result
      FROM voxbook.dashboard_sessions AS s
      JOIN voxbook.staff_accounts AS st ON st.org_id = s.org_id AND st.id = s.staff_id
      JOIN voxbook.organizations AS o ON o.id = s.org_id
     WHERE s.session_hash = internal.token_hash(coalesce(dashboard_session.session, ''))
       AND s.expires_at > now() AND st.status = 'active';
    RETURN coalesce(result, internal.refusal('invalid_session', 'Not logged in, or the session has ended'));
END
$$;

-- Name: FUNCTION dashboard_session(session text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.dashboard_session(session text) IS 'The staff member and clinic a dashboard session belongs to: {"success": true, "org_id", "clinic",
"time_zone", "locale", "phone", "staff_id", "staff_name", "staff_email", "role" (owner | front_desk),
"expires_at"} or {"success": false, "code": "invalid_session", "error"} (unknown, expired, logged out, or
the account deactivated). Every dashboard request starts here; everything after is scoped to org_id.';

-- Name: deactivate_provider(uuid, text, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.deactivate_provider(org_id uuid, calendar_id text, on_future text DEFAULT 'refuse'::text, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    c voxbook.calendars;
    future jsonb;
BEGIN
    IF on_future IS NULL OR on_future NOT IN ('refuse', 'cancel', 'keep') THEN
        PERFORM internal.fail('VB400', 'on_future must be refuse, cancel or keep',
                              '''refuse'' (the default) stops while future appointments exist; ''cancel'' cancels them and texts the patients; ''keep'' leaves them booked for staff to move.');
    END IF;
    c := internal.setup_calendar(o.id, calendar_id, lock => true);
    IF NOT c.active THEN
        RETURN jsonb_build_object('success', true, 'calendar_id', c.id, 'active', false, 'cancelled', '[]'::jsonb, 'kept', '[]'::jsonb,
                                  'released_holds', '[]'::jsonb, 'message', 'Provider was already inactive');
    END IF;
    future := internal.clear_future(o, c, on_future, changed_by);
    UPDATE voxbook.calendars AS x SET active = false WHERE x.org_id = o.id AND x.id = c.id;
    PERFORM internal.audit(o.id, changed_by, 'deactivate_provider', 'provider', c.id,
                           jsonb_build_object('active', true), jsonb_build_object('active', false));
    RETURN jsonb_build_object('success', true, 'calendar_id', c.id, 'active', false,
                              'cancelled', CASE WHEN on_future = 'cancel' THEN future -> 'appointments' ELSE '[]' END,
                              'kept', CASE WHEN on_future = 'keep' THEN future -> 'appointments' ELSE '[]' END,
                              'released_holds', future -> 'holds', 'message', 'Provider deactivated');
END
$$;

-- Name: FUNCTION deactivate_provider(org_id uuid, calendar_id text, on_future text, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.deactivate_provider(org_id uuid, calendar_id text, on_future text, changed_by text) IS 'Stops offering a provider (calendars.active = false; its past appointments stay). on_future ''refuse'' (default):
VB409 while it has future confirmed appointments, with a HINT naming how many and the first three times and
the DETAIL a JSON array of them ({"appointment_id", "hold_id", "status", "calendar_id", "service", "starts_at",
"ends_at", "local_time"}: no patient names in an error). ''cancel'': cancels them as staff (patients texted, cancelled_by =
changed_by). ''keep'': deactivates and leaves them booked (listed in "kept", for staff to move; `voxbook clinic
apply --allow-stranding`). Live holds on it are released in every case. Idempotent. Recorded in voxbook.audit_log. Race-safe
against claims (takes the calendar lock).
Returns {"success": true, "calendar_id", "active": false, "cancelled": [...], "kept": [...], "released_holds": [...],
"message"}.
Errors: VB404 unknown org or calendar; VB400 bad on_future; VB409 future appointments (on_future ''refuse'').';

-- Name: deactivate_staff(uuid, uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.deactivate_staff(org_id uuid, staff_id uuid, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    s voxbook.staff_accounts;
    before jsonb;
    sessions int;
    now_ts timestamptz := internal.clock();
BEGIN
    PERFORM internal.keep_an_owner(o.id, staff_id);
    s := internal.require_staff(o.id, staff_id);
    before := internal.staff_json(s);
    UPDATE voxbook.staff_accounts AS x SET status = 'deactivated', password_hash = NULL, updated_at = now_ts
     WHERE x.org_id = s.org_id AND x.id = s.id AND x.status <> 'deactivated'
    RETURNING x.* INTO s;
    IF FOUND THEN
        PERFORM internal.audit(o.id, changed_by, 'deactivate_staff', 'staff_account', s.id::text, before,
                               internal.staff_json(s));
    END IF;
    -- Signed out everywhere at once; a pending invite link dies with the account.
    DELETE FROM voxbook.dashboard_sessions AS x WHERE x.org_id = o.id AND x.staff_id = s.id;
    GET DIAGNOSTICS sessions = ROW_COUNT;
    UPDATE voxbook.staff_invites AS x SET expires_at = least(x.expires_at, now_ts)
     WHERE x.org_id = o.id AND x.staff_id = s.id AND x.used_at IS NULL;
    RETURN jsonb_build_object('success', true, 'staff', internal.staff_json(s), 'sessions_ended', sessions);
END
$$;

-- Name: FUNCTION deactivate_staff(org_id uuid, staff_id uuid, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.deactivate_staff(org_id uuid, staff_id uuid, changed_by text) IS 'Deactivates a staff account: its sessions end at once, its password and pending invite links stop
working. Idempotent. {"success": true, "staff": {...}, "sessions_ended"}. Audited. To let the person back,
invite them again. Errors: VB404 unknown org or staff account; VB409 the clinic''s last active owner.
Example: SELECT api.deactivate_staff(''a0000000-0000-0000-0000-000000000001'', ''<staff_id>'', ''Olga Owner'');';

-- Name: disconnect_calendar(uuid, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.disconnect_calendar(org_id uuid, calendar_id text, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    c voxbook.calendars := internal.setup_calendar(o.id, calendar_id, lock => true);
    cc voxbook.calendar_connections;
    busy_removed int;
BEGIN
    SELECT * INTO cc FROM voxbook.calendar_connections AS x WHERE x.org_id = o.id AND x.calendar_id = c.id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('success', true, 'org_id', o.id, 'calendar_id', c.id, 'disconnected', false,
                                  'busy_removed', 0);
    END IF;
    -- Imported busy time goes with it (the cascade would too; counted here for the answer).
    DELETE FROM voxbook.blocked_periods AS b WHERE b.org_id = o.id AND b.connection_id = cc.id;
    GET DIAGNOSTICS busy_removed = ROW_COUNT;
    DELETE FROM voxbook.calendar_connections AS x WHERE x.org_id = o.id AND x.id = cc.id;
    PERFORM internal.audit(o.id, changed_by, 'disconnect_calendar', 'provider', c.id,
                           jsonb_build_object('url', cc.url, 'username', cc.username, 'event_title', cc.event_title,
                                              'patient_name', cc.patient_name), NULL);
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'calendar_id', c.id, 'disconnected', true,
                              'busy_removed', busy_removed);
END
$$;

-- Name: FUNCTION disconnect_calendar(org_id uuid, calendar_id text, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.disconnect_calendar(org_id uuid, calendar_id text, changed_by text) IS 'Disconnects a provider''s CalDAV calendar: its imported busy time is removed (those times are bookable again)
and nothing more is pushed. The events already written there stay (voxbook no longer holds the credentials to
remove them). Idempotent. Audited.
Returns {"success": true, "org_id", "calendar_id", "disconnected" (false: it had none), "busy_removed"}.
Errors: VB404 unknown org or calendar.
Example: SELECT api.disconnect_calendar(''a0000000-0000-0000-0000-000000000001'', ''cal-smith'');';

-- Name: expire_stale_holds(uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.expire_stale_holds(org_id uuid DEFAULT NULL::uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION expire_stale_holds(org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.expire_stale_holds(org_id uuid) IS 'Housekeeping: marks live holds past their expiry as expired (all clinics, or one) and cancels their
unsent codes. Correctness never depends on it: claims flip expired holds in their way themselves and an
expired hold can never be confirmed. Returns {"success": true, "expired": n}.
Example: SELECT api.expire_stale_holds();';

-- Name: find_inbound_carrier_accounts(text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.find_inbound_carrier_accounts(to_number text, account_sid text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $_$
DECLARE
    receiver text := btrim(to_number);
    sid text := nullif(btrim(account_sid), '');
    r record;
    a voxbook.carrier_accounts;
    to_clinics jsonb := '[]';
    account_clinics jsonb := '[]';
BEGIN
    IF length(receiver) > 64 OR length(sid) > 64 THEN
        PERFORM internal.fail('VB400', 'to_number or account_sid is too long',
                              'Pass Twilio''s To (E.164) and AccountSid (34 characters).');
    END IF;
    -- Twilio sends To in E.164; anything else (a short code) is no clinic's number.
    IF receiver ~ '^\+[1-9][0-9]{7,14}$' THEN
        -- One clinic table read per clinic by its key: no distributed join (organizations is a reference table).
        FOR r IN SELECT o.id FROM voxbook.organizations AS o WHERE o.phone = receiver OR o.sms_from = receiver
                  ORDER BY o.id LOOP
            SELECT * INTO a FROM voxbook.carrier_accounts AS x WHERE x.org_id = r.id;
            to_clinics := to_clinics || jsonb_build_array(jsonb_build_object(
                'org_id', r.id, 'account', CASE WHEN FOUND THEN internal.carrier_account_json(a) END));
        END LOOP;
    END IF;
    IF jsonb_array_length(to_clinics) = 0 AND sid ~ '^AC[0-9a-f]{32}$' THEN
        -- A number no clinic owns (a Messaging Service's pool): the clinics on the account that received it.
        FOR a IN SELECT * FROM voxbook.carrier_accounts AS x WHERE x.account_sid = sid ORDER BY x.org_id LIMIT 100 LOOP
            account_clinics := account_clinics || jsonb_build_array(jsonb_build_object(
                'org_id', a.org_id, 'phone', (SELECT o.phone FROM voxbook.organizations AS o WHERE o.id = a.org_id),
                'account', internal.carrier_account_json(a)));
        END LOOP;
    END IF;
    RETURN jsonb_build_object('success', true, 'to_clinics', to_clinics, 'account_clinics', account_clinics);
END
$_$;

-- Name: FUNCTION find_inbound_carrier_accounts(to_number text, account_sid text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.find_inbound_carrier_accounts(to_number text, account_sid text) IS 'Which clinics and carrier accounts an inbound SMS webhook concerns, so that its signature is checked
with the right token before anything changes (api/twilio_routes.py). Across clinics (not delegated).
"to_clinics": the clinics whose phone or sms_from is to_number (E.164), each with its own account or null
(the process-wide one). When none: "account_clinics", the clinics whose own account is account_sid
(Twilio''s AccountSid: a Messaging Service number of that account), each with its phone and account.
Accounts as in api.get_carrier_account (the token''s ciphertext only).
Returns {"success": true, "to_clinics": [{"org_id", "account"}], "account_clinics": [{"org_id", "phone",
"account"}]}. Errors: VB400 an argument over 64 characters.
Example: SELECT api.find_inbound_carrier_accounts(''+15551234567'', ''AC0123...'');';

-- Name: find_my_appointments(uuid, text, text, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.find_my_appointments(org_id uuid, call_id text DEFAULT NULL::text, caller_phone text DEFAULT NULL::text, phone text DEFAULT NULL::text, code text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION find_my_appointments(org_id uuid, call_id text, caller_phone text, phone text, code text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.find_my_appointments(org_id uuid, call_id text, caller_phone text, phone text, code text) IS 'A caller''s upcoming appointments (the voice tool find_my_appointments), by phone number: the caller''s own
(caller_phone: Vapi''s call.customer.number, which the adapter passes from the webhook''s call, never from the
model) or, from a withheld or another number, the one they name (phone) once proven: the first call without code
texts a one-time code to THAT number (uniform answer, whether or not it has appointments here), the call with
the code read back (code) proves it for this call (call_id: Vapi''s call.id) and lists. Codes as api.send_otp_code:
HMAC with the pepper, max_code_sends and max_code_attempts per (call, number), the code_* sliding windows, only
the clinic''s allowed calling codes; a code lives 10 minutes.
Returns {"success": true, "time_zone", "phone_masked", "verified_by": "caller_id" | "code", "appointments":
[{"position" (1 = soonest), "appointment_id", "patient_name", "calendar_id", "provider", "service",
"service_name", "starts_at", "ends_at", "local_time", "day", "spoken_time"}]} (at most 20), or {"success": false,
"code": "verification_required" (with "code_sent", "phone_masked", "sends_left", "code_length", "expires_at") |
"phone_needed" (no number at all) | "no_code" | "code_expired" | "wrong_code" (with "retries_left") |
"attempts_exhausted" | "malformed_code" | "resend_limit" | "rate_limited" | "destination_not_allowed" |
"codes_unavailable", "error"}.
Errors: VB404 unknown org; VB400 a malformed phone, no call_id when a code is needed.
Example: SELECT api.find_my_appointments(''a0000000-0000-0000-0000-000000000001'', ''call-123'', ''+15555550123'');';

-- Name: find_organization(text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.find_organization(phone text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations;
    hit voxbook.organizations;
    e164 text;
    c text;
    readable boolean := false;
BEGIN
    PERFORM internal.require(phone, 'phone');
    IF regexp_replace(phone, '[\s().\-/]', '', 'g') ~ '^(\+|00)' THEN   -- E.164, as Vapi sends it
        e164 := internal.normalize_phone(find_organization.phone, NULL);
        SELECT * INTO o FROM voxbook.organizations AS x WHERE x.phone = e164;
    ELSE
        -- A national number (psql): read in each clinic's country, it must lead to one clinic of that country.
        FOR c IN SELECT DISTINCT x.country FROM voxbook.organizations AS x LOOP
            BEGIN
                e164 := internal.normalize_phone(find_organization.phone, c);
            EXCEPTION WHEN SQLSTATE 'VB400' THEN
                CONTINUE;
            END;
            readable := true;
            SELECT * INTO hit FROM voxbook.organizations AS x WHERE x.phone = e164 AND x.country = c;
            IF FOUND THEN
                IF o.id IS NOT NULL THEN
                    PERFORM internal.fail('VB400', 'ambiguous national number',
                                          'Two clinics in different countries have this national number: give it with + and the calling code.');
                END IF;
                o := hit;
            END IF;
        END LOOP;
        IF NOT readable THEN
            PERFORM internal.normalize_phone(find_organization.phone, NULL);   -- VB400 with the E.164 hint
        END IF;
    END IF;
    IF o.id IS NULL THEN
        PERFORM internal.fail('VB404', 'no clinic answers on this number',
                              'The number must be a clinic''s phone in E.164, as Vapi sends it in phoneNumber.number.');
    END IF;
    RETURN internal.organization_json(o);
END
$$;

-- Name: FUNCTION find_organization(phone text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.find_organization(phone text) IS 'The clinic answering on a phone number: E.164 (as Vapi sends it), or national as dialled in the clinic''s
country (''(555) 123-4567'' for a US clinic, ''020 7946 0958'' for a GB one). Its settings, calendars and services,
as api.get_organization. Errors: VB404 no clinic on that number; VB400 malformed number, or a national number
two clinics of different countries have.
Example: SELECT api.find_organization(''+15551234567'');';

-- Name: find_patient(uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.find_patient(org_id uuid, phone text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION find_patient(org_id uuid, phone text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.find_patient(org_id uuid, phone text) IS 'The people at a phone number (read in the clinic''s country) and their upcoming appointments. A contact is a
number (its SMS opt-out belongs to it); the people are the names its appointments were booked for (a parent
and a child on one number are two people) and the number''s own name.
Returns {"success": true, "phone" (E.164), "found", "contact_id", "sms_opted_out", "people": [{"name",
"appointments_booked", "upcoming": [{"appointment_id", "calendar_id", "provider", "service", "starts_at",
"ends_at", "local_time"}]}]} ("found": false and no people for a number the clinic does not know).
Errors: VB404 unknown org; VB400 phone missing or malformed.
Example: SELECT api.find_patient(''a0000000-0000-0000-0000-000000000001'', ''(555) 555-0123'');';

-- Name: finish_calendar_sync(uuid, uuid, text, text, text, double precision, double precision); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.finish_calendar_sync(org_id uuid, connection_id uuid, worker_id text, error_class text DEFAULT NULL::text, error text DEFAULT NULL::text, next_seconds double precision DEFAULT 10, retry_base_seconds double precision DEFAULT 15) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    cc voxbook.calendar_connections := internal.connection_by_id(o.id, connection_id, lock => true);
    now_ts timestamptz := internal.clock();
    failures int;
    delay double precision;
    next_at timestamptz;
BEGIN
    PERFORM internal.require(worker_id, 'worker_id');
    IF error_class IS NOT NULL AND error_class NOT IN ('bad_credentials', 'not_a_calendar', 'no_write_permission',
                                                       'unreachable', 'server_error', 'secrets_key', 'invalid_data') THEN
        PERFORM internal.fail('VB400', 'unknown error_class',
                              'One of bad_credentials, not_a_calendar, no_write_permission, unreachable, server_error, secrets_key, invalid_data.');
    END IF;
    IF next_seconds IS NULL OR next_seconds NOT BETWEEN 0 AND 86400
       OR retry_base_seconds IS NULL OR retry_base_seconds NOT BETWEEN 0 AND 3600 THEN
        PERFORM internal.fail('VB400', 'next_seconds or retry_base_seconds out of range',
                              'next_seconds 0-86400 (e.g. 10), retry_base_seconds 0-3600 (e.g. 15).');
    END IF;
    IF cc.locked_by IS DISTINCT FROM worker_id THEN
        RETURN internal.refusal('not_held', 'this worker no longer holds the connection');
    END IF;
    IF error_class IS NULL THEN
        failures := 0;
        next_at := now_ts + make_interval(secs => next_seconds);
    ELSE
        -- Backoff per calendar: base doubling per consecutive failure, capped at 30 minutes, +-20 % jitter so
        -- that the calendars of one failing server do not all come back at the same instant.
        failures := cc.consecutive_failures + 1;
        delay := least(retry_base_seconds * power(2, least(failures - 1, 20)), 1800) * (0.8 + 0.4 * random());
        next_at := now_ts + make_interval(secs => delay);
    END IF;
    UPDATE voxbook.calendar_connections AS x
       SET locked_by = NULL, lease_until = NULL, next_attempt_at = next_at, consecutive_failures = failures,
           last_success_at = CASE WHEN error_class IS NULL THEN now_ts ELSE x.last_success_at END,
           last_error_class = finish_calendar_sync.error_class,
           last_error = left(internal.one_line(finish_calendar_sync.error), 500), updated_at = now_ts
     WHERE x.org_id = o.id AND x.id = cc.id;
    RETURN jsonb_build_object('success', true, 'consecutive_failures', failures,
                              'next_attempt_at', internal.utc_iso(next_at));
END
$$;

-- Name: FUNCTION finish_calendar_sync(org_id uuid, connection_id uuid, worker_id text, error_class text, error text, next_seconds double precision, retry_base_seconds double precision); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.finish_calendar_sync(org_id uuid, connection_id uuid, worker_id text, error_class text, error text, next_seconds double precision, retry_base_seconds double precision) IS 'For the calendar sync worker: ends its claim of a connection and records the round''s health. Success (no
error_class): the next sync in next_seconds. Failure (error_class bad_credentials | not_a_calendar |
no_write_permission | unreachable | server_error | secrets_key | invalid_data, error a reason for people, never a
secret): retried after retry_base_seconds doubled per consecutive failure, at most 30 minutes, +-20 % jitter;
the other calendars are not affected. Returns {"success": true, "consecutive_failures", "next_attempt_at"} or
{"success": false, "code": "not_held"} (another worker holds it now; nothing changed).
Errors: VB404 unknown org or connection; VB400 worker_id missing, an unknown error_class, next_seconds or
retry_base_seconds out of range.
Example: SELECT api.finish_calendar_sync(:org, :conn, ''host:1'', ''unreachable'', ''connection refused'');';

-- Name: front_desk_transfer(uuid, text, text, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.front_desk_transfer(org_id uuid, call_id text DEFAULT NULL::text, caller_phone text DEFAULT NULL::text, caller_name text DEFAULT NULL::text, reason text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts constant timestamptz := internal.clock();
    tag text;
    cb jsonb;
    why text;
BEGIN
    tag := internal.call_locale(o, call_id);
    IF o.front_desk_phone IS NOT NULL AND internal.clinic_open(o, now_ts) THEN
        RETURN jsonb_build_object('success', true, 'transfer', true, 'destination', o.front_desk_phone,
                                  'message', internal.message('spoken.transfer.connecting', tag));
    END IF;
    why := CASE WHEN o.front_desk_phone IS NULL THEN 'no_front_desk' ELSE 'closed' END;
    cb := internal.request_callback(o.id, CASE WHEN why = 'closed' THEN 'after_hours' ELSE 'asked' END,
                                    coalesce(nullif(left(btrim(reason), 900), ''), 'The caller asked for a person')
                                    || CASE WHEN why = 'closed' THEN ' (the clinic was closed)' ELSE ' (no front-desk number)' END,
                                    caller_phone, caller_name, call_id);
    RETURN jsonb_build_object('success', true, 'transfer', false, 'code', why,
                              'message', internal.message('spoken.transfer.' || why, tag),
                              'callback_request_id', cb->'callback_request'->'id');
END
$$;

-- Name: FUNCTION front_desk_transfer(org_id uuid, call_id text, caller_phone text, caller_name text, reason text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.front_desk_transfer(org_id uuid, call_id text, caller_phone text, caller_name text, reason text) IS 'Where a caller who asks for a person goes (Vapi''s transfer-destination-request of the transfer_to_front_desk tool).
While the clinic is open (an active provider works now, no clinic-wide closure) and it has a front-desk number
(organizations.front_desk_phone): {"success": true, "transfer": true, "destination": "+1...", "message": <the line
said before transferring, in the call''s language>}. Otherwise a callback request is recorded for the call (kind
after_hours when closed, asked when there is no front-desk number; once per call) and texted to the front desk:
{"success": true, "transfer": false, "code": "closed" | "no_front_desk", "message": <the line saying the front
desk will call back>, "callback_request_id"}. caller_phone: Vapi''s call.customer.number (trusted), NULL on web calls.
Errors: VB404 unknown org.
Example: SELECT api.front_desk_transfer(:org, call_id => ''call-1'', caller_phone => ''+15551230000'');';

-- Name: get_appointment(uuid, uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.get_appointment(appointment_id uuid, org_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION get_appointment(appointment_id uuid, org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.get_appointment(appointment_id uuid, org_id uuid) IS 'One appointment: {"success": true, "appointment_id", "status", "hold_id", "contact_id", "patient_name",
"calendar_id", "provider", "service", "starts_at", "ends_at", "local_time", "spoken_time", "time_zone",
"confirmed_via", "otp_verified", "confirmation_sms": {"message_id", "status", "provider_message_id"},
"reminder_sms": {"message_id", "status", "send_after"}}. Errors: VB404 unknown org or appointment.';

-- Name: get_calendar_connection(uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.get_calendar_connection(org_id uuid, calendar_id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    cc voxbook.calendar_connections := internal.require_calendar_connection(o.id, calendar_id);
BEGIN
    RETURN jsonb_build_object('success', true, 'org_id', o.id,
                              'connection', internal.calendar_connection_json(cc, o.time_zone, internal.clock())
                                            || jsonb_build_object('secret_ciphertext', cc.secret_ciphertext));
END
$$;

-- Name: FUNCTION get_calendar_connection(org_id uuid, calendar_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.get_calendar_connection(org_id uuid, calendar_id text) IS 'One provider''s connected calendar with the password''s ciphertext, for `voxbook calendar test` (which decrypts it
in its own memory with VOXBOOK_SECRETS_KEY and tries the calendar) and the sync worker''s tooling.
Returns {"success": true, "org_id", "connection": <as api.list_calendar_connections> + "secret_ciphertext"}.
Errors: VB404 unknown org, or the provider has no connected calendar (another clinic''s too).
Example: SELECT api.get_calendar_connection(''a0000000-0000-0000-0000-000000000001'', ''cal-smith'');';

-- Name: get_call(uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.get_call(org_id uuid, call_id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    rec voxbook.calls;
BEGIN
    PERFORM internal.require_org(org_id);
    SELECT * INTO rec FROM voxbook.calls AS x
     WHERE x.org_id = get_call.org_id AND x.vapi_call_id = internal.vapi_call_key(get_call.call_id);
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown call', 'call_id is Vapi''s call.id of a call whose end-of-call-report was recorded.');
    END IF;
    RETURN internal.call_json(rec) || jsonb_build_object(
        'customer_name', rec.customer_name, 'started_at', internal.utc_iso(rec.started_at),
        'ended_at', internal.utc_iso(rec.ended_at), 'ended_reason', rec.ended_reason,
        'summary', rec.summary, 'transcript', rec.transcript,
        'alert', (SELECT jsonb_build_object('alert_id', a.id, 'created_at', internal.utc_iso(a.created_at),
                                            'sms_id', a.sms_id, 'sms_status', m.status)
                    FROM voxbook.hot_lead_alerts AS a
                    LEFT JOIN voxbook.sms_outbox AS m ON m.org_id = a.org_id AND m.id = a.sms_id
                   WHERE a.org_id = rec.org_id AND a.call_id = rec.id));
END
$$;

-- Name: FUNCTION get_call(org_id uuid, call_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.get_call(org_id uuid, call_id text) IS 'A recorded call by call_id, Vapi''s call.id (the whole id, however long): the fields of
api.record_call_end''s result plus "customer_name", "started_at", "ended_at", "ended_reason", "summary",
"transcript" and "alert" ({"alert_id", "created_at", "sms_id", "sms_status"} or null). Errors: VB404 unknown org or call.
Example: SELECT api.get_call(''a0000000-0000-0000-0000-000000000001'', ''call-123'');';

-- Name: get_carrier_account(uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.get_carrier_account(org_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    a voxbook.carrier_accounts;
BEGIN
    PERFORM internal.require_org(org_id);
    SELECT * INTO a FROM voxbook.carrier_accounts AS x WHERE x.org_id = get_carrier_account.org_id;
    RETURN jsonb_build_object('success', true, 'org_id', org_id,
                              'account', CASE WHEN FOUND THEN internal.carrier_account_json(a) END);
END
$$;

-- Name: FUNCTION get_carrier_account(org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.get_carrier_account(org_id uuid) IS 'A clinic''s own carrier account, for the SMS worker (to send) and the Twilio callbacks (to check
signatures): {"success": true, "org_id", "account": null (the clinic uses the process-wide account) or
{"provider": "twilio", "account_sid", "auth_token_ciphertext" (Fernet; decrypted only in the application''s
memory with VOXBOOK_SECRETS_KEY), "key_id", "messaging_service_sid", "parent_account_sid", "updated_at"}}.
Errors: VB404 unknown org.
Example: SELECT api.get_carrier_account(''a0000000-0000-0000-0000-000000000001'');';

-- Name: get_clinic(uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.get_clinic(org_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
BEGIN
    RETURN internal.clinic_json(internal.require_org(org_id));
END
$$;

-- Name: FUNCTION get_clinic(org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.get_clinic(org_id uuid) IS 'Everything a clinic is, in the shape the set-up functions take (db/README.md "Setting up a clinic"):
{"success": true, "org_id", "name", "phone", "time_zone", "country", "country_code", "locale", "languages",
"hot_lead_phone", "sms_from", "settings": {<every key api.create_clinic''s settings takes but the two phones>},
"providers": [{"calendar_id", "display_name", "slot_minutes", "default_duration_minutes", "active",
"hours": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...} (a day without hours is left out),
"exceptions": [{"on_date", "hours": [[from, to], ...] ([] = not working), "reason"}] (today on)}],
"services": [{"service_id", "name", "duration_minutes", "buffer_before_minutes", "buffer_after_minutes",
"price_cents", "value_tier", "active", "providers": [calendar ids] ([] = every active provider)}],
"blocks": [{"block_id", "calendar_id" (null = the whole clinic), "starts_at", "ends_at", "local_starts",
"local_ends", "reason", "created_by", "source" (null: made by staff; "caldav": busy time from the provider''s calendar)}] (those not over yet)}. Providers and services by id, blocks by start.
Errors: VB404 unknown org.';

-- Name: get_hold(uuid, uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.get_hold(hold_id uuid, org_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION get_hold(hold_id uuid, org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.get_hold(hold_id uuid, org_id uuid) IS 'A hold as the API sees it: hold fields plus "live", "code_sent", "code_verified", "code_attempts",
"release_reason". Never shows the code. Errors: VB404 unknown org or hold.';

-- Name: get_organization(uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.get_organization(org_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
    SELECT internal.organization_json(internal.require_org(org_id))
$$;

-- Name: FUNCTION get_organization(org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.get_organization(org_id uuid) IS 'A clinic''s settings with its calendars and services: {"success": true, "org_id", "name", "phone",
"time_zone", "country" (ISO 3166 alpha-2: national numbers are read by its rules), "hold_minutes", "code_length", "max_code_attempts", "max_code_sends", "min_notice_minutes",
"booking_horizon_days", "hot_lead_threshold", "help_text", "calendars": [{"calendar_id", "provider",
"slot_minutes", "default_duration_minutes"}], "services": [{"service", "name", "duration_minutes",
"price_cents", "value_tier"}]}. Errors: VB404 unknown org.';

-- Name: invite_staff(uuid, text, text, text, text, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.invite_staff(org_id uuid, email text, name text, role text, changed_by text DEFAULT NULL::text, valid_hours integer DEFAULT 72) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    e text := internal.staff_email(email);
    r text := internal.staff_role(role);
    n text := internal.one_line(name);   -- as the audit shows it: one line, no control or bidi character
    who text := internal.changed_by(changed_by);
    now_ts timestamptz := internal.clock();
    secret text := internal.new_secret('vbi_');
    expires timestamptz;
    s voxbook.staff_accounts;
    before jsonb;
BEGIN
    IF n IS NULL OR length(n) NOT BETWEEN 1 AND 100 THEN
        PERFORM internal.fail('VB400', 'name must be 1 to 100 characters', 'The person''s name, as the audit shows it.');
    END IF;
    IF valid_hours IS NULL OR valid_hours NOT BETWEEN 1 AND 720 THEN
        PERFORM internal.fail('VB400', 'valid_hours must be between 1 and 720', 'Leave it out for 72 hours.');
    END IF;
    expires := now_ts + make_interval(hours => valid_hours);
    SELECT * INTO s FROM voxbook.staff_accounts AS x WHERE x.org_id = o.id AND x.email = e FOR UPDATE;
    IF FOUND AND s.status = 'active' THEN
        PERFORM internal.fail('VB409', 'this email already has an active account in this clinic',
                              'Change its role with api.set_staff_role, or deactivate it first.');
    END IF;
    IF FOUND THEN   -- invited again, or a deactivated account invited back: a new link, the old ones dead
        before := internal.staff_json(s);
        UPDATE voxbook.staff_accounts AS x
           SET name = n, role = r, status = 'invited', password_hash = NULL, updated_at = now_ts
         WHERE x.org_id = s.org_id AND x.id = s.id
        RETURNING x.* INTO s;
        UPDATE voxbook.staff_invites AS x SET expires_at = least(x.expires_at, now_ts)
         WHERE x.org_id = s.org_id AND x.staff_id = s.id AND x.used_at IS NULL;
    ELSE
        INSERT INTO voxbook.staff_accounts AS x (org_id, email, name, role, created_by, created_at, updated_at)
        VALUES (o.id, e, n, r, who, now_ts, now_ts)
        RETURNING x.* INTO s;
    END IF;
    INSERT INTO voxbook.staff_invites (org_id, staff_id, token_hash, created_by, created_at, expires_at)
    VALUES (o.id, s.id, internal.token_hash(secret), who, now_ts, expires);
    -- The link's expiry in the audit: a new link for an invited account is a change too.
    PERFORM internal.audit(o.id, who, 'invite_staff', 'staff_account', s.id::text, before,
                           internal.staff_json(s) || jsonb_build_object('invite_expires_at', internal.utc_iso(expires)));
    RETURN jsonb_build_object('success', true, 'staff_id', s.id, 'org_id', o.id, 'clinic', o.name,
                              'email', s.email, 'name', s.name, 'role', s.role, 'token', secret,
                              'path', '/dashboard/invite?token=' || secret,
                              'expires_at', internal.utc_iso(expires),
                              'expires_local', internal.local_text(expires, o.time_zone, internal.field_locale(o.locale)),
                              'message', 'Send this link to the person now: only its hash is stored, it works once');
END
$$;

-- Name: FUNCTION invite_staff(org_id uuid, email text, name text, role text, changed_by text, valid_hours integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.invite_staff(org_id uuid, email text, name text, role text, changed_by text, valid_hours integer) IS 'Invites a person to a clinic''s dashboard with a role (owner or front_desk) and returns a one-time link,
valid valid_hours (1-720, default 72), shown once (only the token''s sha256 is stored):
{"success": true, "staff_id", "org_id", "clinic", "email", "name", "role", "token", "path"
("/dashboard/invite?token=..."), "expires_at", "expires_local" (the clinic''s zone and locale), "message"}. Prefix path with the server''s public URL. The
person opens it and chooses a password (api.accept_staff_invite). Inviting an invited or deactivated account
again makes a new link and kills the old ones. Audited (entity staff_account) as changed_by.
CLI: voxbook staff invite --org <org> --email --name --role.
Errors: VB404 unknown org; VB400 bad email, name, role or valid_hours; VB409 the email already has an active
account in this clinic.
Example: SELECT api.invite_staff(''a0000000-0000-0000-0000-000000000001'', ''ana@clinic.example'', ''Ana Ruiz'',
''front_desk'', changed_by => ''Olga Owner'');';

-- Name: issue_calendar_feed_token(uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.issue_calendar_feed_token(org_id uuid, calendar_id text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    c voxbook.calendars := internal.require_calendar(org_id, calendar_id);
    secret text := internal.new_secret('vbf_');
    t voxbook.calendar_feed_tokens;
BEGIN
    INSERT INTO voxbook.calendar_feed_tokens AS x (org_id, calendar_id, token_hash)
    VALUES (o.id, c.id, internal.token_hash(secret))
    RETURNING x.* INTO t;
    RETURN jsonb_build_object('success', true, 'token_id', t.id, 'token', secret, 'calendar_id', c.id,
                              'provider', c.display_name,
                              'path', format('/calendars/%s.ics?token=%s', c.id, secret),
                              'message', 'Keep this URL now: only the token''s hash is stored');
END
$$;

-- Name: FUNCTION issue_calendar_feed_token(org_id uuid, calendar_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.issue_calendar_feed_token(org_id uuid, calendar_id text) IS 'Creates a subscription token for one provider''s calendar feed and returns it once:
{"success": true, "token_id", "token", "calendar_id", "provider", "path" ("/calendars/<id>.ics?token=..."),
"message"}. Prefix "path" with the server''s public URL and subscribe to it in Google Calendar or Outlook.
CLI: voxbook calendar-feed-token --org <org> --calendar <id>. Errors: VB404 unknown org or calendar.';

-- Name: issue_dashboard_token(uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.issue_dashboard_token(org_id uuid, label text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    secret text := internal.new_secret('vbd_');
    t voxbook.dashboard_tokens;
BEGIN
    IF length(label) > 200 THEN
        PERFORM internal.fail('VB400', 'label is limited to 200 characters', 'Shorten the label.');
    END IF;
    INSERT INTO voxbook.dashboard_tokens AS x (org_id, token_hash, label)
    VALUES (o.id, internal.token_hash(secret), nullif(btrim(label), ''))
    RETURNING x.* INTO t;
    RETURN jsonb_build_object('success', true, 'token_id', t.id, 'token', secret, 'org_id', o.id, 'clinic', o.name,
                              'message', 'Keep this token now: only its hash is stored, it cannot be shown again');
END
$$;

-- Name: FUNCTION issue_dashboard_token(org_id uuid, label text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.issue_dashboard_token(org_id uuid, label text) IS 'Creates a clinic dashboard token and returns it once (only its sha256 is stored):
{"success": true, "token_id", "token", "org_id", "clinic", "message"}. Such tokens no longer sign in to the
dashboard (issue 16: every action is done in a person''s name): people sign in with staff accounts
(api.invite_staff, 71_staff_accounts.sql; CLI: voxbook staff invite).
Errors: VB404 unknown org; VB400 label over 200 characters.
Example: SELECT api.issue_dashboard_token(''a0000000-0000-0000-0000-000000000001'', ''front desk'');';

-- Name: join_waitlist(uuid, text, date, date, time without time zone, time without time zone, text, text, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.join_waitlist(org_id uuid, caller_phone text DEFAULT NULL::text, first_day date DEFAULT NULL::date, last_day date DEFAULT NULL::date, from_time time without time zone DEFAULT NULL::time without time zone, to_time time without time zone DEFAULT NULL::time without time zone, service text DEFAULT NULL::text, calendar_id text DEFAULT NULL::text, patient_name text DEFAULT NULL::text, call_id text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION join_waitlist(org_id uuid, caller_phone text, first_day date, last_day date, from_time time without time zone, to_time time without time zone, service text, calendar_id text, patient_name text, call_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.join_waitlist(org_id uuid, caller_phone text, first_day date, last_day date, from_time time without time zone, to_time time without time zone, service text, calendar_id text, patient_name text, call_id text) IS 'Puts a caller on the clinic''s waitlist when no time fits: caller_phone (the trusted caller number: the
join_waitlist voice tool passes Vapi''s call.customer.number, never the model''s), a window of local dates first_day..last_day (default: first_day only;
a past start is moved to today) and local start times from_time..to_time (default the whole day), a service
(its length and buffers; NULL: the provider''s default) and a provider (calendar_id; NULL: any who offers it).
First come first served. Idempotent per call (call_id, Vapi''s call.id). Offers come by SMS
(api.offer_waitlist_openings); a reply of BOOK or 1 takes one.
Returns {"success": true, "waitlist_id", "status", "first_day", "last_day", "from_time", "to_time", "service",
"calendar_id", "message"}, or {"success": false, "code": "phone_needed", "error"} when caller_phone is missing
(a withheld number: nothing is stored).
Errors: VB404 unknown org, calendar or service; VB400 first_day missing, a malformed phone, a window that ended,
ends before it starts or spans more than 62 days, from_time not before to_time, a calendar that does not offer
the service.
Example: SELECT api.join_waitlist(''a0000000-0000-0000-0000-000000000001'', ''+15555550123'', current_date,
         current_date + 7, ''09:00'', ''12:00'', ''cleaning'');';

-- Name: list_appointments(uuid, timestamp with time zone, timestamp with time zone, text, text, text, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.list_appointments(org_id uuid, from_time timestamp with time zone DEFAULT NULL::timestamp with time zone, to_time timestamp with time zone DEFAULT NULL::timestamp with time zone, calendar_id text DEFAULT NULL::text, patient_phone text DEFAULT NULL::text, status text DEFAULT NULL::text, max_rows integer DEFAULT 500) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION list_appointments(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, calendar_id text, patient_phone text, status text, max_rows integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.list_appointments(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, calendar_id text, patient_phone text, status text, max_rows integer) IS 'The clinic''s appointments starting in [from_time, to_time) (default: from now on, no end), in time order;
optionally of one provider (calendar_id), one phone number (patient_phone, read in the clinic''s country) and
one status (''confirmed'' or ''cancelled''; default both); at most max_rows (default 500).
Returns {"success": true, "time_zone", "appointments": [{"appointment_id", "status", "contact_id",
"patient_name" (the person it was booked for), "phone_masked", "calendar_id", "provider", "service",
"service_name", "starts_at", "ends_at" (UTC), "local_time", "confirmed_via", "booked_by", "cancelled_by",
"cancel_reason"}], "more": true when max_rows left some out}.
Errors: VB404 unknown org or calendar; VB400 a time out of range, to_time before from_time, another status,
max_rows not 1-5000, a malformed phone.
Example: SELECT api.list_appointments(''a0000000-0000-0000-0000-000000000001'', now(), now() + interval ''1 day'');';

-- Name: list_audit(uuid, timestamp with time zone, timestamp with time zone, text, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.list_audit(org_id uuid, from_time timestamp with time zone DEFAULT NULL::timestamp with time zone, to_time timestamp with time zone DEFAULT NULL::timestamp with time zone, entity text DEFAULT NULL::text, max_rows integer DEFAULT 200) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
BEGIN
    PERFORM internal.require_instant(from_time, 'from_time', optional => true);
    PERFORM internal.require_instant(to_time, 'to_time', optional => true);
    -- The same list as the CHECK of voxbook.audit_log.entity (migrations 0031, 0030).
    IF entity IS NOT NULL AND entity NOT IN ('clinic', 'provider', 'service', 'hours', 'hours_exception',
                                             'blocked_period', 'appointment', 'sms', 'waitlist', 'staff_account') THEN
        PERFORM internal.fail('VB400', 'unknown entity',
                              'One of clinic, provider, service, hours, hours_exception, blocked_period, appointment, sms, waitlist, staff_account (or NULL: all).');
    END IF;
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 10000 THEN
        PERFORM internal.fail('VB400', 'max_rows must be between 1 and 10000', 'Narrow from_time/to_time for more.');
    END IF;
    RETURN jsonb_build_object('success', true, 'entries', (
        SELECT coalesce(jsonb_agg(jsonb_build_object('id', a.id, 'at', internal.utc_iso(a.at), 'changed_by', a.changed_by,
                                                     'action', a.action, 'entity', a.entity, 'entity_id', a.entity_id,
                                                     'before', a.before, 'after', a.after)
                                  ORDER BY a.at DESC, a.id), '[]')
          FROM (SELECT * FROM voxbook.audit_log AS x
                 WHERE x.org_id = o.id
                   AND (from_time IS NULL OR x.at >= from_time) AND (to_time IS NULL OR x.at < to_time)
                   AND (list_audit.entity IS NULL OR x.entity = list_audit.entity)
                 ORDER BY x.at DESC, x.id LIMIT max_rows) AS a));
END
$$;

-- Name: FUNCTION list_audit(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, entity text, max_rows integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.list_audit(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, entity text, max_rows integer) IS 'Who changed what in a clinic (voxbook.audit_log), newest first: the changes made through the set-up functions
(and staff actions on appointments), in [from_time, to_time) (default: all), of one entity kind (clinic,
provider, service, hours, hours_exception, blocked_period, appointment, sms, waitlist, staff_account; NULL: all), at most max_rows (200).
Returns {"success": true, "entries": [{"id", "at", "changed_by", "action", "entity", "entity_id", "before",
"after"}]} (before null = created, after null = removed).
Errors: VB404 unknown org; VB400 a time out of range, unknown entity, max_rows not 1-10000.';

-- Name: list_blocks(uuid, timestamp with time zone, timestamp with time zone, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.list_blocks(org_id uuid, from_time timestamp with time zone DEFAULT NULL::timestamp with time zone, to_time timestamp with time zone DEFAULT NULL::timestamp with time zone, calendar_id text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    lo timestamptz := coalesce(from_time, internal.clock());
    hi timestamptz := to_time;
    b voxbook.blocked_periods;
    blocks jsonb := '[]';
BEGIN
    PERFORM internal.require_instant(from_time, 'from_time', optional => true);
    PERFORM internal.require_instant(to_time, 'to_time', optional => true);
    IF hi IS NOT NULL AND hi < lo THEN
        PERFORM internal.fail('VB400', 'to_time is before from_time', 'Give from_time <= to_time.');
    END IF;
    IF calendar_id IS NOT NULL THEN
        PERFORM internal.setup_calendar(o.id, calendar_id, lock => false);
    END IF;
    FOR b IN SELECT * FROM voxbook.blocked_periods AS x
              WHERE x.org_id = o.id AND x.during && tstzrange(lo, hi, '[)')
                AND (list_blocks.calendar_id IS NULL OR x.calendar_id = list_blocks.calendar_id OR x.calendar_id IS NULL)
              ORDER BY lower(x.during), x.id LOOP
        blocks := blocks || jsonb_build_array(internal.block_json(b, o.time_zone));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'blocks', blocks);
END
$$;

-- Name: FUNCTION list_blocks(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, calendar_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.list_blocks(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, calendar_id text) IS 'The blocks (time off, closures) overlapping [from_time, to_time) (default: from now on, no end), by start;
with calendar_id, that provider''s and the clinic-wide ones (calendar_id null).
Returns {"success": true, "blocks": [{"block_id", "calendar_id", "starts_at", "ends_at", "local_starts",
"local_ends", "reason", "created_by", "source" (null: made by staff; "caldav": busy time from the provider''s calendar)}]}.
Errors: VB404 unknown org or calendar; VB400 a time out of range, to_time before from_time.';

-- Name: list_calendar_conflicts(uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.list_calendar_conflicts(org_id uuid, calendar_id text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    found_rows jsonb := '[]';
    r record;
BEGIN
    IF calendar_id IS NOT NULL THEN
        PERFORM internal.setup_calendar(o.id, calendar_id, lock => false);
    END IF;
    -- Read when asked, so it is never stale: busy time imported from a provider's calendar over one of its
    -- confirmed appointments that has not ended. Cancelling or moving either side makes it go.
    FOR r IN
        SELECT a.id AS appointment_id, h.calendar_id, c.display_name, h.starts_at, h.ends_at,
               coalesce(a.patient_name, ct.name, h.patient_name) AS patient,
               b.id AS block_id, lower(b.during) AS busy_starts, upper(b.during) AS busy_ends, b.created_at
          FROM voxbook.blocked_periods AS b
          JOIN voxbook.holds AS h ON h.org_id = b.org_id AND h.calendar_id = b.calendar_id AND h.status = 'confirmed'
                                 AND tstzrange(h.starts_at, h.ends_at, '[)') && b.during
          JOIN voxbook.appointments AS a ON a.org_id = h.org_id AND a.hold_id = h.id AND a.status = 'confirmed'
          JOIN voxbook.calendars AS c ON c.org_id = h.org_id AND c.id = h.calendar_id
          LEFT JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
         WHERE b.org_id = o.id AND b.source = 'caldav' AND h.ends_at > now_ts
           AND (list_calendar_conflicts.calendar_id IS NULL OR b.calendar_id = list_calendar_conflicts.calendar_id)
         ORDER BY h.starts_at, a.id, b.id
         LIMIT 1000
    LOOP
        found_rows := found_rows || jsonb_build_array(jsonb_build_object(
            'appointment_id', r.appointment_id, 'calendar_id', r.calendar_id, 'provider', r.display_name,
            'patient_name', r.patient, 'starts_at', internal.utc_iso(r.starts_at), 'ends_at', internal.utc_iso(r.ends_at),
            'local_time', internal.local_text(r.starts_at, o.time_zone), 'block_id', r.block_id,
            'busy_starts_at', internal.utc_iso(r.busy_starts), 'busy_ends_at', internal.utc_iso(r.busy_ends),
            'detected_at', internal.utc_iso(r.created_at)));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'conflicts', found_rows);
END
$$;

-- Name: FUNCTION list_calendar_conflicts(org_id uuid, calendar_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.list_calendar_conflicts(org_id uuid, calendar_id text) IS 'Confirmed appointments that busy time in the provider''s own calendar now overlaps (an event added there over a
booking): nothing was cancelled, the provider stays booked, staff decide (move the appointment, or have the
provider move their event). With calendar_id, that provider''s only. Upcoming ones (not ended), by time, at most
1000. Returns {"success": true, "conflicts": [{"appointment_id", "calendar_id", "provider", "patient_name",
"starts_at", "ends_at", "local_time", "block_id", "busy_starts_at", "busy_ends_at", "detected_at"}]}.
Errors: VB404 unknown org or calendar.
Example: SELECT api.list_calendar_conflicts(''a0000000-0000-0000-0000-000000000001'');';

-- Name: list_calendar_connections(uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.list_calendar_connections(org_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    cc voxbook.calendar_connections;
    found_rows jsonb := '[]';
BEGIN
    FOR cc IN SELECT * FROM voxbook.calendar_connections AS x WHERE x.org_id = o.id ORDER BY x.calendar_id LOOP
        found_rows := found_rows || jsonb_build_array(internal.calendar_connection_json(cc, o.time_zone, now_ts));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'connections', found_rows);
END
$$;

-- Name: FUNCTION list_calendar_connections(org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.list_calendar_connections(org_id uuid) IS 'A clinic''s connected CalDAV calendars with their health, for staff (never the secret).
Returns {"success": true, "org_id", "connections": [{"connection_id", "calendar_id", "url", "username", "key_id",
"event_title", "patient_name", "healthy", "state" (pending: not synced yet | ok | failing), "last_success_at",
"last_attempt_at", "last_error_class" (bad_credentials | not_a_calendar | no_write_permission | unreachable |
server_error | secrets_key | invalid_data | null), "last_error" (a reason for people), "consecutive_failures",
"next_attempt_at", "incremental" (true: the server''s sync-token; false: ETag comparison; null: not synced),
"events_pushed", "busy_imported", "connected_by", "connected_at", "local_last_success"}]}.
Errors: VB404 unknown org.
Example: SELECT api.list_calendar_connections(''a0000000-0000-0000-0000-000000000001'');';

-- Name: list_callback_requests(uuid, text, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.list_callback_requests(org_id uuid, status text DEFAULT 'open'::text, max_rows integer DEFAULT 100) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    items jsonb := '[]';
    r voxbook.callback_requests;
BEGIN
    IF status IS NOT NULL AND status NOT IN ('open', 'done') THEN
        PERFORM internal.fail('VB400', 'status must be open, done or NULL', 'NULL lists both.');
    END IF;
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 1000 THEN
        PERFORM internal.fail('VB400', 'max_rows must be 1 to 1000', 'e.g. max_rows => 50');
    END IF;
    FOR r IN SELECT * FROM voxbook.callback_requests AS x
              WHERE x.org_id = o.id AND (list_callback_requests.status IS NULL OR x.status = list_callback_requests.status)
              ORDER BY x.created_at DESC, x.id LIMIT max_rows LOOP
        items := items || jsonb_build_array(internal.callback_json(r, o));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'callback_requests', items);
END
$$;

-- Name: FUNCTION list_callback_requests(org_id uuid, status text, max_rows integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.list_callback_requests(org_id uuid, status text, max_rows integer) IS 'The clinic''s callback requests, newest first: {"success": true, "callback_requests": [{"id", "kind"
(transfer_failed | after_hours | asked | reschedule_request | sms_reply | failure), "status" (open | done),
"reason", "name", "phone", "phone_display", "vapi_call_id" (the call''s transcript: voxbook.calls by this id, once
Vapi''s end-of-call report came), "appointment_id", "sms_id" (the text to the front desk), "created_at",
"created_local", "done_at", "done_by", "note"}]}. status: ''open'' (default), ''done'', or NULL for both.
Errors: VB404 unknown org; VB400 bad status or max_rows (1-1000).
Example: SELECT api.list_callback_requests(:org);';

-- Name: list_carrier_accounts(text, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.list_carrier_accounts(key_id_not text DEFAULT NULL::text, max_rows integer DEFAULT 1000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    ids jsonb;
BEGIN
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 100000 THEN
        PERFORM internal.fail('VB400', 'max_rows must be between 1 and 100000', 'Pass max_rows => 1000.');
    END IF;
    SELECT coalesce(jsonb_agg(t.org_id ORDER BY t.org_id), '[]') INTO ids
      FROM (SELECT x.org_id FROM voxbook.carrier_accounts AS x
             WHERE key_id_not IS NULL OR x.key_id <> key_id_not
             ORDER BY x.org_id LIMIT max_rows) AS t;
    RETURN jsonb_build_object('success', true, 'org_ids', ids);
END
$$;

-- Name: FUNCTION list_carrier_accounts(key_id_not text, max_rows integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.list_carrier_accounts(key_id_not text, max_rows integer) IS 'The clinics that have their own carrier account, across clinics (not delegated), for a key rotation: with
key_id_not, only those whose token was encrypted with another key (voxbook clinic carrier rekey re-encrypts
them). Returns {"success": true, "org_ids": [...]} (at most max_rows, by id). Errors: VB400 max_rows outside 1-100000.
Example: SELECT api.list_carrier_accounts(key_id_not => ''3f2a9c0d1e4b'');';

-- Name: list_failed_sms(uuid, integer, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.list_failed_sms(org_id uuid, days integer DEFAULT 7, max_rows integer DEFAULT 200) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    loc jsonb := internal.field_locale(o.locale);
    m voxbook.sms_outbox;
    resend voxbook.sms_outbox;
    patient text;
    result jsonb := '[]';
BEGIN
    IF days IS NULL OR days NOT BETWEEN 1 AND 90 THEN
        PERFORM internal.fail('VB400', 'days must be between 1 and 90', 'Leave it out for the last 7 days.');
    END IF;
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 1000 THEN
        PERFORM internal.fail('VB400', 'max_rows must be between 1 and 1000', 'Leave it out for 200.');
    END IF;
    -- A loop: internal.resend_refusal reads tables, never called per row of a query (Citus).
    FOR m IN SELECT * FROM voxbook.sms_outbox AS x
              WHERE x.org_id = o.id AND x.created_at >= now_ts - make_interval(days => days)
                AND x.status IN ('failed', 'undelivered', 'skipped')
              ORDER BY x.created_at DESC, x.id LIMIT max_rows
    LOOP
        SELECT * INTO resend FROM voxbook.sms_outbox AS x WHERE x.org_id = m.org_id AND x.resent_from = m.id;
        SELECT a.patient_name INTO patient FROM voxbook.appointments AS a
         WHERE a.org_id = m.org_id AND a.id = m.appointment_id;
        result := result || jsonb_build_array(internal.problem_sms_json(m, o, loc, patient,
                                                                         internal.resend_refusal(m, now_ts), resend));
        resend := NULL;
        patient := NULL;
    END LOOP;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'messages', result);
END
$$;

-- Name: FUNCTION list_failed_sms(org_id uuid, days integer, max_rows integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.list_failed_sms(org_id uuid, days integer, max_rows integer) IS 'The clinic''s texts that did not arrive in the last `days` days (1-90, default 7), newest first, at most max_rows
(1-1000, default 200), for the front desk: status failed, undelivered or skipped, each with its carrier
"error_code" and "reason" in words (internal.sms_error_text: 30003 "the phone is off or out of reach", ...; else
why it was skipped), whether it may be resent ("resendable", else "not_resendable": {"code", "error"}) and its
resend if there is one. No bodies; phones masked.
Returns {"success": true, "org_id", "messages": [{"message_id", "kind", "status", "error_code", "reason",
"skip_reason", "attempts", "phone_masked", "appointment_id", "patient_name", "created_at", "local_time",
"resent": {"message_id", "status"} | null, "resendable", "not_resendable": {"code", "error"} | null}]}.
Errors: VB404 unknown org; VB400 days or max_rows out of range.
Example: SELECT api.list_failed_sms(''a0000000-0000-0000-0000-000000000001'');';

-- Name: list_problem_sms(uuid, timestamp with time zone, timestamp with time zone, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.list_problem_sms(org_id uuid, from_time timestamp with time zone DEFAULT NULL::timestamp with time zone, to_time timestamp with time zone DEFAULT NULL::timestamp with time zone, max_rows integer DEFAULT 500) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION list_problem_sms(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, max_rows integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.list_problem_sms(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, max_rows integer) IS 'The clinic''s texts that did not reach their recipient, queued in [from_time, to_time) (default: the last 7
days), newest first, at most max_rows (default 500): status ''failed'' (the carrier refused or every retry failed),
''undelivered'' (the carrier could not deliver it) or ''skipped'' (never sent: the number opted out, the hold or
appointment was gone...), each with why. No bodies (a code''s digits), phones masked.
Returns {"success": true, "messages": [{"message_id", "kind", "status", "why", "error_code", "skip_reason",
"attempts", "phone_masked", "appointment_id", "patient_name", "created_at", "updated_at", "local_time"}],
"more"}.
Errors: VB404 unknown org; VB400 a time out of range, to_time before from_time, max_rows not 1-5000.
Example: SELECT api.list_problem_sms(''a0000000-0000-0000-0000-000000000001'');';

-- Name: list_sms_inbox(uuid, text, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.list_sms_inbox(org_id uuid, status text DEFAULT 'open'::text, max_items integer DEFAULT 50) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION list_sms_inbox(org_id uuid, status text, max_items integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.list_sms_inbox(org_id uuid, status text, max_items integer) IS 'The clinic''s SMS inbox: texts from patients that were not a carrier keyword (STOP, HELP...) nor a reply C or R
(db/functions/46_sms_replies.sql), newest first. status: ''open'' (default), ''done'' or ''all''; max_items 1-500
(default 50). Returns {"success": true, "org_id", "items": [{"inbox_id", "status", "body", "phone",
"phone_display", "patient_name", "appointment_id" (the sender''s next appointment when it came, or null),
"appointment_local_time", "received_at", "local_received_at", "forwarded" (texted to the front desk),
"done_at", "done_by"}]}. Errors: VB404 unknown org; VB400 status or max_items out of range.
Example: SELECT api.list_sms_inbox(''a0000000-0000-0000-0000-000000000001'');';

-- Name: list_staff(uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.list_staff(org_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    loc constant jsonb := internal.field_locale(o.locale);   -- the clinic's way of writing times
    s voxbook.staff_accounts;
    invite_expires timestamptz;
    staff jsonb := '[]';
BEGIN
    -- A loop, not internal.staff_json(row) in the query: on Citus a whole row of a shard has the shard's type.
    FOR s IN SELECT * FROM voxbook.staff_accounts AS x WHERE x.org_id = o.id
              ORDER BY x.status = 'deactivated', x.name, x.id
    LOOP
        SELECT max(x.expires_at) INTO invite_expires FROM voxbook.staff_invites AS x
         WHERE x.org_id = s.org_id AND x.staff_id = s.id AND x.used_at IS NULL AND x.expires_at > now_ts;
        staff := staff || jsonb_build_array(internal.staff_json(s) || jsonb_build_object(
                     'last_sign_in_local', internal.local_text(s.last_sign_in_at, o.time_zone, loc),
                     'invite_expires_at', internal.utc_iso(invite_expires),
                     'invite_expires_local', internal.local_text(invite_expires, o.time_zone, loc)));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'staff', staff);
END
$$;

-- Name: FUNCTION list_staff(org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.list_staff(org_id uuid) IS 'A clinic''s staff accounts, active and invited first, by name: {"success": true, "org_id", "staff":
[{"staff_id", "email", "name", "role" (owner | front_desk), "status" (invited | active | deactivated),
"created_at", "last_sign_in_at", "last_sign_in_local", "invite_expires_at" (a live invite link''s expiry,
else null), "invite_expires_local"}]}; *_local: in the clinic''s zone and locale. No password hashes. Errors: VB404 unknown org.
Example: SELECT api.list_staff(''a0000000-0000-0000-0000-000000000001'');';

-- Name: list_waitlist(uuid, text, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.list_waitlist(org_id uuid, status text DEFAULT 'waiting'::text, max_rows integer DEFAULT 200) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION list_waitlist(org_id uuid, status text, max_rows integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.list_waitlist(org_id uuid, status text, max_rows integer) IS 'The clinic''s waitlist for staff, first come first served: {"success": true, "entries": [{"waitlist_id", "status"
(waiting, booked, removed, expired), "patient_name", "phone" (as the clinic writes it), "service", "calendar_id"
(NULL: any provider), "first_day", "last_day", "from_time", "to_time" (local), "joined_at", "appointment_id" (when
booked), "offers": [{"offer_id", "status" (sent, accepted, lost, expired), "calendar_id", "time", "local_time",
"expires_at"}]}]}. status NULL: every entry; max_rows (default 200, at most 1000): the oldest first.
Errors: VB404 unknown org; VB400 unknown status, max_rows not 1-1000.
Example: SELECT api.list_waitlist(''a0000000-0000-0000-0000-000000000001'');';

-- Name: mark_attendance(uuid, uuid, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.mark_attendance(org_id uuid, appointment_id uuid, attendance text, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    a voxbook.appointments := internal.lock_appointment(org_id, appointment_id, NULL);
    now_ts timestamptz := internal.clock();
    mark constant text := nullif(btrim(attendance), '');
    who constant text := internal.changed_by(changed_by);
    starts timestamptz;
    before jsonb;
BEGIN
    IF mark IS NOT NULL AND mark NOT IN ('arrived', 'no_show') THEN
        PERFORM internal.fail('VB400', 'attendance must be arrived, no_show or null',
                              'arrived: the patient is here; no_show: they did not come; null undoes the mark.');
    END IF;
    IF a.status <> 'confirmed' THEN
        PERFORM internal.fail('VB409', 'a cancelled appointment has no attendance', 'Mark only confirmed appointments.');
    END IF;
    SELECT h.starts_at INTO starts FROM voxbook.holds AS h WHERE h.org_id = a.org_id AND h.id = a.hold_id;
    -- Marked on the day (a patient may arrive early), never ahead of it; a no-show only once the time has come.
    IF mark IS NOT NULL AND (starts AT TIME ZONE o.time_zone)::date > (now_ts AT TIME ZONE o.time_zone)::date THEN
        PERFORM internal.fail('VB409', 'the appointment is on a later day', 'Mark attendance on the day of the appointment.');
    END IF;
    IF mark = 'no_show' AND starts > now_ts THEN
        PERFORM internal.fail('VB409', 'the appointment has not started yet', 'A patient is a no-show only once their time has come.');
    END IF;
    IF mark IS NOT DISTINCT FROM a.attendance THEN
        RETURN jsonb_build_object('success', true, 'appointment_id', a.id, 'changed', false) || internal.attendance_json(a);
    END IF;
    before := internal.attendance_json(a);
    UPDATE voxbook.appointments AS x
       SET attendance = mark,
           attendance_at = CASE WHEN mark IS NULL THEN NULL ELSE now_ts END,
           attendance_by = CASE WHEN mark IS NULL THEN NULL ELSE who END,
           updated_at = now_ts
     WHERE x.org_id = a.org_id AND x.id = a.id
    RETURNING x.* INTO a;
    PERFORM internal.audit(a.org_id, who, 'mark_attendance', 'appointment', a.id::text, before, internal.attendance_json(a));
    RETURN jsonb_build_object('success', true, 'appointment_id', a.id, 'changed', true) || internal.attendance_json(a);
END
$$;

-- Name: FUNCTION mark_attendance(org_id uuid, appointment_id uuid, attendance text, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.mark_attendance(org_id uuid, appointment_id uuid, attendance text, changed_by text) IS 'The front desk marks a confirmed appointment: attendance ''arrived'' (from the appointment''s local day on) or
''no_show'' (once its time has come); NULL undoes the mark. Who and when are kept (appointments.attendance_by,
attendance_at) and the change is audited (voxbook.audit_log, action mark_attendance). The same mark again
changes nothing ("changed": false).
Returns {"success": true, "appointment_id", "changed", "attendance", "attendance_at" (UTC), "attendance_by"}.
Errors: VB404 unknown org or appointment (another clinic''s included); VB400 an unknown mark; VB409 a cancelled
appointment, a mark ahead of the appointment''s day, a no-show before its time.
Example: SELECT api.mark_attendance(:org, ''<appointment_id>'', ''arrived'', changed_by => ''Ana'');';

-- Name: mark_sms_failed(uuid, uuid, text, text, text, boolean, boolean, double precision); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.mark_sms_failed(org_id uuid, message_id uuid, worker_id text, error_code text DEFAULT NULL::text, error_message text DEFAULT NULL::text, permanent boolean DEFAULT false, ambiguous boolean DEFAULT false, retry_base_seconds double precision DEFAULT 30) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_custom_plan'
    AS $$
DECLARE
    m voxbook.sms_outbox;
    now_ts timestamptz := internal.clock();
    delay float8;
    deadline timestamptz;
    give_up text;
    next_status text;
    retry_at timestamptz;
BEGIN
    PERFORM internal.require(org_id, 'org_id');
    PERFORM internal.require(message_id, 'message_id');
    PERFORM internal.require(worker_id, 'worker_id');
    SELECT * INTO m FROM voxbook.sms_outbox AS x
     WHERE x.org_id = mark_sms_failed.org_id AND x.id = mark_sms_failed.message_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown message', 'Use message_id and org_id from api.claim_sms_batch.');
    END IF;
    IF m.status <> 'sending' OR m.locked_by IS DISTINCT FROM mark_sms_failed.worker_id THEN
        -- Recovered by another worker meanwhile, or settled by a callback: that state wins.
        RETURN internal.refusal('not_claimed', 'The message is not claimed by this worker any more',
                                jsonb_build_object('message_id', m.id, 'status', m.status));
    END IF;
    -- Exponential backoff capped at 5 minutes, with +-25% jitter after the cap so that the retries of one
    -- burst (a Twilio outage, a run of 429s) do not all come back in the same second.
    delay := least(coalesce(retry_base_seconds, 30) * power(2, least(greatest(m.attempts - 1, 0), 30)), 300)
             * (0.75 + random() * 0.5);
    deadline := internal.sms_retry_deadline(m);
    -- A definite failure (permanent, or the provider certainly does not have it) is retried until the
    -- message is no longer useful (internal.sms_retry_deadline), then ends 'failed' with the reason; an
    -- ambiguous one is always looked up first (the claim then decides whether it may be sent again).
    give_up := CASE WHEN ambiguous THEN NULL
                    WHEN permanent THEN 'permanent error'
                    WHEN m.attempts >= m.max_attempts THEN format('no attempts left (%s)', m.max_attempts)
                    WHEN deadline <= now_ts + make_interval(secs => delay)
                        THEN CASE WHEN internal.sms_useful_for(m.kind) IS NULL
                                  THEN 'gave up: the next try would come too late'
                                  ELSE format('gave up: not sent within %s hours of being due',
                                              (extract(epoch FROM internal.sms_useful_for(m.kind)) / 3600)::int) END
               END;
    next_status := CASE WHEN ambiguous THEN 'unknown' WHEN give_up IS NOT NULL THEN 'failed' ELSE 'queued' END;
    -- A value, not the sum inside the CASE below: timestamptz + interval is not IMMUTABLE, and Citus refuses
    -- such a call inside CASE or COALESCE of an UPDATE.
    retry_at := now_ts + make_interval(secs => delay);
    UPDATE voxbook.sms_outbox AS x
       SET status = next_status,
           provider_may_have = ambiguous,
           error_code = left(mark_sms_failed.error_code, 40),
           error_message = left(mark_sms_failed.error_message, 500),
           skip_reason = CASE WHEN permanent THEN x.skip_reason ELSE give_up END,
           send_after = CASE WHEN next_status = 'failed' THEN x.send_after ELSE retry_at END,
           body = CASE WHEN next_status = 'failed' THEN internal.settled_body(x.body, x.redact_after_send)
                       ELSE x.body END,
           locked_by = NULL, locked_at = NULL, lease_until = NULL, updated_at = now(), status_updated_at = now()
     WHERE x.org_id = m.org_id AND x.id = m.id
    RETURNING x.* INTO m;
    IF mark_sms_failed.error_code = '21610' THEN
        PERFORM internal.set_sms_consent(m.org_id, m.recipient, true, 'twilio:21610');
    END IF;
    RETURN jsonb_build_object('success', true, 'message_id', m.id, 'status', m.status,
                              'attempts', m.attempts, 'max_attempts', m.max_attempts,
                              'retry_at', CASE WHEN m.status <> 'failed' THEN internal.utc_iso(m.send_after) END,
                              'opted_out', mark_sms_failed.error_code = '21610');
END
$$;

-- Name: FUNCTION mark_sms_failed(org_id uuid, message_id uuid, worker_id text, error_code text, error_message text, permanent boolean, ambiguous boolean, retry_base_seconds double precision); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.mark_sms_failed(org_id uuid, message_id uuid, worker_id text, error_code text, error_message text, permanent boolean, ambiguous boolean, retry_base_seconds double precision) IS 'Records a failed send attempt of a message claimed by worker_id. permanent (e.g. Twilio 21211 invalid
number, 21614 not a mobile, 21408 region, 21610 opted out): status ''failed'' at once. ambiguous (the
provider may have accepted it: timeout after sending, 5xx, connection lost): status ''unknown'', to be
reconciled before any resend. Otherwise (429, queue full, network error before sending): ''queued'' again after
retry_base_seconds * 2^(attempts-1), at most 5 minutes, +-25% jitter, for as long as the message is useful: a
code while its hold lives, a reminder until its appointment starts, a hot-lead alert 6 hours and any other
message 24 hours after it was first due (internal.sms_retry_deadline); then ''failed'' with skip_reason saying so
and error_code/error_message keeping the last error. max_attempts (default 1000) is only a runaway guard.
Error 21610 also opts the recipient out at this clinic. A one-time code''s body is redacted when it fails for good.
Returns {"success": true, "message_id", "status", "attempts", "max_attempts", "retry_at", "opted_out"} or
{"success": false, "code": "not_claimed", ...} when the row is no longer this worker''s (nothing changed).
Errors: VB400 missing argument; VB404 unknown message.
Example: SELECT api.mark_sms_failed(''<org_id>'', ''<message_id>'', ''host-1:4242'', ''20429'', ''Too many requests'');';

-- Name: mark_sms_sent(uuid, uuid, text, text, integer, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.mark_sms_sent(org_id uuid, message_id uuid, provider_message_id text, provider_status text DEFAULT NULL::text, provider_segments integer DEFAULT NULL::integer, worker_id text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_custom_plan'
    AS $$
DECLARE
    res jsonb;
BEGIN
    PERFORM internal.require(org_id, 'org_id');
    PERFORM internal.require(message_id, 'message_id');
    PERFORM internal.require(nullif(btrim(provider_message_id), ''), 'provider_message_id');
    res := internal.record_sms_sent(org_id, message_id, provider_message_id, provider_status, provider_segments);
    IF res->>'code' = 'unknown_message' THEN
        PERFORM internal.fail('VB404', 'unknown message', 'Use message_id and org_id from api.claim_sms_batch.');
    END IF;
    RETURN res;
END
$$;

-- Name: FUNCTION mark_sms_sent(org_id uuid, message_id uuid, provider_message_id text, provider_status text, provider_segments integer, worker_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.mark_sms_sent(org_id uuid, message_id uuid, provider_message_id text, provider_status text, provider_segments integer, worker_id text) IS 'Records that the provider accepted a message (or that reconciliation found it there): status ''sent''
(or further, if a callback came first), provider_message_id, provider_status, provider_segments, sent_at;
the body of a one-time code is redacted. Repeating it with the same id changes nothing.
Returns {"success": true, "message_id", "status", "provider_message_id"} or, when the row already has
another provider id, {"success": false, "code": "duplicate_send", ...} (nothing changed), or, when that provider
id is recorded for another message (a lookup matched the wrong one of two identical texts),
{"success": false, "code": "sid_taken", "message_id", "status"}: the row goes back to ''unknown'' to be looked up again.
Errors: VB400 missing argument; VB404 unknown message.
Example: SELECT api.mark_sms_sent(''<org_id>'', ''<message_id>'', ''SM0123...'', ''queued'', 1);';

-- Name: mark_sms_sent_batch(jsonb, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.mark_sms_sent_batch(reports jsonb, worker_id text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_custom_plan'
    AS $$
DECLARE
    r record;
    results jsonb[];
BEGIN
    IF jsonb_typeof(reports) IS DISTINCT FROM 'array' THEN
        PERFORM internal.fail('VB400', 'reports must be a JSON array',
                              'Pass [{"org_id": ..., "message_id": ..., "provider_message_id": ...}, ...].');
    END IF;
    IF jsonb_array_length(reports) > 1000 THEN
        PERFORM internal.fail('VB400', 'at most 1000 reports per call', 'Split the reports into several calls.');
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(reports) AS e(j)
                WHERE jsonb_typeof(j) IS DISTINCT FROM 'object'
                   OR nullif(j->>'org_id', '') IS NULL OR nullif(j->>'message_id', '') IS NULL
                   OR nullif(btrim(j->>'provider_message_id'), '') IS NULL) THEN
        PERFORM internal.fail('VB400', 'every report needs org_id, message_id and provider_message_id',
                              'Use message_id and org_id from api.claim_sms_batch and the provider''s id.');
    END IF;
    IF (SELECT count(DISTINCT e.j->>'message_id') <> count(*) FROM jsonb_array_elements(reports) AS e(j)) THEN
        PERFORM internal.fail('VB400', 'a message is reported twice', 'Report each message once per call.');
    END IF;
    results := array_fill(NULL::jsonb, ARRAY[jsonb_array_length(reports)]);
    -- One message at a time, each by its primary key (a join of the batch with the outbox is planned as a
    -- scan of the whole outbox while the table looks small), in key order so that two callers never
    -- lock the same rows in opposite orders.
    FOR r IN
        SELECT e.ord, (e.j->>'org_id')::uuid AS org_id, (e.j->>'message_id')::uuid AS message_id
          FROM jsonb_array_elements(reports) WITH ORDINALITY AS e(j, ord)
         ORDER BY 2, 3
    LOOP
        results[r.ord] := internal.record_sms_sent(r.org_id, r.message_id, reports->(r.ord::int - 1)->>'provider_message_id',
                                                   reports->(r.ord::int - 1)->>'provider_status',
                                                   (reports->(r.ord::int - 1)->>'provider_segments')::int);
    END LOOP;
    RETURN jsonb_build_object('success', true, 'results', to_jsonb(results));
END
$$;

-- Name: FUNCTION mark_sms_sent_batch(reports jsonb, worker_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.mark_sms_sent_batch(reports jsonb, worker_id text) IS 'api.mark_sms_sent for many messages in one call: reports is a JSON array (at most 1000) of
{"org_id", "message_id", "provider_message_id", "provider_status" (optional), "provider_segments" (optional)},
each message at most once. Each one is recorded exactly as api.mark_sms_sent records it (status ''sent'' or
further, sid, provider status and segments, sent_at, a code''s body redacted). Returns {"success": true, "results": [...]} with one result per report, in the same order:
{"success": true, "message_id", "status", "provider_message_id"}, or {"success": false, "code":
"duplicate_send", "message_id", "status", "provider_message_id" (the one kept)} when the row already has
another provider id (that row is left unchanged), {"success": false, "code": "sid_taken", "message_id", "status"}
when that provider id belongs to another message (the row goes back to ''unknown''), or {"success": false, "code": "unknown_message",
"message_id"}. Errors: VB400 reports not an array of such objects, more than 1000, or a message twice.
Example: SELECT api.mark_sms_sent_batch(''[{"org_id": "...", "message_id": "...", "provider_message_id": "SM0123...", "provider_status": "queued", "provider_segments": 1}]'');';

-- Name: offer_waitlist_openings(uuid, integer, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.offer_waitlist_openings(org_id uuid DEFAULT NULL::uuid, max_offers integer DEFAULT 3, reply_minutes integer DEFAULT 15) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION offer_waitlist_openings(org_id uuid, max_offers integer, reply_minutes integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.offer_waitlist_openings(org_id uuid, max_offers integer, reply_minutes integer) IS 'Offers freed times to waitlisted patients (all clinics, or one): expires offers whose reply window passed and
entries whose last day passed, then gives each waiting patient without a live offer, first come first served,
the earliest free time of their window (service, provider or any, local days and start times) not offered to
them before, as long as fewer than max_offers patients hold a live offer of that time; each offer is an SMS
("Reply BOOK or 1 within N minutes"), live for reply_minutes. A time frees up when an appointment is cancelled
or moved, a hold released or expired, or time off lifted: free is what api.check_availability offers. The SMS
worker calls it on every poll; a reply books through internal.waitlist_reply (the SMS reply router).
Returns {"success": true, "offers": n}. Errors: VB404 an org_id that is no clinic; VB400 max_offers not 1-50,
reply_minutes not 1-240.
Example: SELECT api.offer_waitlist_openings(''a0000000-0000-0000-0000-000000000001'');';

-- Name: purge_tool_calls(uuid, interval); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.purge_tool_calls(org_id uuid DEFAULT NULL::uuid, older_than interval DEFAULT '2 days'::interval) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    cutoff timestamptz;
    n bigint;
BEGIN
    PERFORM internal.require(older_than, 'older_than');
    IF older_than < interval '1 day' OR older_than > interval '3650 days' THEN
        PERFORM internal.fail('VB400', 'older_than must be between 1 day and 3650 days',
                              'Vapi redelivers a tool call during its call: keep at least a day, e.g. ''2 days''.');
    END IF;
    IF purge_tool_calls.org_id IS NOT NULL THEN
        PERFORM internal.require_org(purge_tool_calls.org_id);
    END IF;
    cutoff := internal.clock() - older_than;
    DELETE FROM voxbook.tool_calls AS t
     WHERE t.created_at < cutoff
       AND (purge_tool_calls.org_id IS NULL OR t.org_id = purge_tool_calls.org_id);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN jsonb_build_object('success', true, 'deleted', n, 'before', internal.utc_iso(cutoff));
END
$$;

-- Name: FUNCTION purge_tool_calls(org_id uuid, older_than interval); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.purge_tool_calls(org_id uuid, older_than interval) IS 'Housekeeping: deletes the stored answers of tool calls first answered more than older_than ago (default 2
days; at least 1 day, at most 3650 days), of every clinic or of one. A redelivery of a call younger than that is
still answered from its record; an older id would run as a new call (Vapi never redelivers that late). The SMS
worker runs it periodically. Returns {"success": true, "deleted": n, "before": <the cut-off, UTC ISO>}.
Errors: VB400 older_than missing or out of range; VB404 unknown org.
Example: SELECT api.purge_tool_calls(older_than => ''7 days'');';

-- Name: record_calendar_push(uuid, uuid, uuid, text, text, timestamp with time zone, timestamp with time zone, text, boolean, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.record_calendar_push(org_id uuid, connection_id uuid, appointment_id uuid, href text, etag text DEFAULT NULL::text, starts_at timestamp with time zone DEFAULT NULL::timestamp with time zone, ends_at timestamp with time zone DEFAULT NULL::timestamp with time zone, title text DEFAULT NULL::text, deleted boolean DEFAULT false, worker_id text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    cc voxbook.calendar_connections;
    now_ts timestamptz := internal.clock();
BEGIN
    PERFORM internal.require(appointment_id, 'appointment_id');
    -- With worker_id, fenced as api.apply_calendar_import: a worker whose lease ran out (another took the calendar
    -- over) must not write its older view over the newer one's record. The row lock orders it after a claim.
    cc := internal.connection_by_id(o.id, connection_id, lock => worker_id IS NOT NULL);
    IF worker_id IS NOT NULL AND (cc.locked_by IS DISTINCT FROM worker_id OR cc.lease_until < now_ts) THEN
        RETURN internal.refusal('not_held', 'this worker no longer holds the connection');
    END IF;
    IF coalesce(deleted, false) THEN
        DELETE FROM voxbook.calendar_pushes AS p
         WHERE p.org_id = o.id AND p.connection_id = cc.id AND p.appointment_id = record_calendar_push.appointment_id;
        RETURN jsonb_build_object('success', true, 'recorded', 'deleted');
    END IF;
    PERFORM internal.require(href, 'href');
    PERFORM internal.require_instant(starts_at, 'starts_at');
    PERFORM internal.require_instant(ends_at, 'ends_at');
    PERFORM internal.require(title, 'title');
    IF length(href) > 2500 OR length(etag) > 500 OR length(title) > 400 OR ends_at <= starts_at THEN
        PERFORM internal.fail('VB400', 'href, etag or title too long, or ends_at not after starts_at',
                              'Record what was written: the event''s href and ETag, its times and title.');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM voxbook.appointments AS a
                    WHERE a.org_id = o.id AND a.id = record_calendar_push.appointment_id) THEN
        PERFORM internal.fail('VB404', 'unknown appointment', 'Record pushes of this clinic''s appointments only.');
    END IF;
    INSERT INTO voxbook.calendar_pushes AS p (org_id, connection_id, appointment_id, href, etag, starts_at, ends_at,
                                              title, pushed_at)
    VALUES (o.id, cc.id, record_calendar_push.appointment_id, href, etag, starts_at, ends_at, title, now_ts)
    ON CONFLICT ON CONSTRAINT calendar_pushes_pkey DO UPDATE
       SET href = excluded.href, etag = excluded.etag, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
           title = excluded.title, pushes = p.pushes + 1, pushed_at = excluded.pushed_at;
    UPDATE voxbook.calendar_connections AS x SET events_pushed = x.events_pushed + 1
     WHERE x.org_id = o.id AND x.id = cc.id;
    RETURN jsonb_build_object('success', true, 'recorded', 'written');
END
$$;

-- Name: FUNCTION record_calendar_push(org_id uuid, connection_id uuid, appointment_id uuid, href text, etag text, starts_at timestamp with time zone, ends_at timestamp with time zone, title text, deleted boolean, worker_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.record_calendar_push(org_id uuid, connection_id uuid, appointment_id uuid, href text, etag text, starts_at timestamp with time zone, ends_at timestamp with time zone, title text, deleted boolean, worker_id text) IS 'For the calendar sync worker: records that an appointment''s event was written to the connection''s calendar
(href, the ETag the server returned, the times and title written) or, with deleted => true, removed there.
Idempotent (a retry records the same). worker_id (the worker passes it): recorded only while that worker holds the
connection''s lease, else {"success": false, "code": "not_held"} and nothing changes (a worker that outlived its
lease never overwrites the record of the one that took over).
Returns {"success": true, "recorded": "written" | "deleted"} or {"success": false, "code": "not_held"}.
Errors: VB404 unknown org, connection or appointment (another clinic''s too); VB400 a missing argument, times out
of range or inverted, href/etag/title too long.
Example: SELECT api.record_calendar_push(:org, :conn, :appt, ''https://dav.example.com/cal/voxbook-<id>.ics'', ''"e1"'',
''2026-12-01T15:00:00Z'', ''2026-12-01T15:30:00Z'', ''Cleaning'');';

-- Name: record_call_end(uuid, text, timestamp with time zone, timestamp with time zone, text, text, text, jsonb, text, text, text, integer); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.record_call_end(org_id uuid, call_id text, started_at timestamp with time zone DEFAULT NULL::timestamp with time zone, ended_at timestamp with time zone DEFAULT NULL::timestamp with time zone, customer_phone text DEFAULT NULL::text, transcript text DEFAULT NULL::text, summary text DEFAULT NULL::text, structured_data jsonb DEFAULT NULL::jsonb, ended_reason text DEFAULT NULL::text, success_evaluation text DEFAULT NULL::text, provider_call_sid text DEFAULT NULL::text, duration_seconds integer DEFAULT NULL::integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    phone text;
    sd jsonb := coalesce(structured_data, '{}');
    appt voxbook.appointments;
    h voxbook.holds;
    s voxbook.services;
    rec voxbook.calls;
    scored jsonb;
    seconds int;
    alert voxbook.hot_lead_alerts;
    m voxbook.sms_outbox;
    who text;
    lim jsonb := internal.call_field_limits();
    call_key text;
    booked_at timestamptz;
    owner_tag text;
BEGIN
    PERFORM internal.require(nullif(btrim(call_id), ''), 'call_id');
    call_key := internal.vapi_call_key(call_id);
    transcript := left(transcript, (lim->>'transcript')::int);
    summary := left(summary, (lim->>'summary')::int);
    ended_reason := left(ended_reason, (lim->>'ended_reason')::int);
    success_evaluation := left(success_evaluation, (lim->>'success_evaluation')::int);
    provider_call_sid := left(provider_call_sid, (lim->>'provider_call_sid')::int);
    BEGIN
        phone := internal.normalize_phone(customer_phone, o.country);
    EXCEPTION WHEN SQLSTATE 'VB400' THEN
        phone := NULL;   -- 'anonymous', a withheld or foreign-format number: the call still counts
    END;
    IF jsonb_typeof(sd) <> 'object' THEN
        PERFORM internal.fail('VB400', 'structured_data must be a JSON object', 'Pass analysis.structuredData as it came.');
    END IF;
    -- The report is the lead: it is stored whatever its times say. Times that cannot be (infinite, out of
    -- internal.in_time_range, an end before the start) are unknown, and the duration falls back as below.
    IF NOT internal.in_time_range(started_at) THEN
        started_at := NULL;
    END IF;
    IF NOT internal.in_time_range(ended_at) OR ended_at < started_at THEN
        ended_at := NULL;
    END IF;
    -- Vapi may deliver the report twice: the first one is the record, later ones are answered from it.
    SELECT * INTO rec FROM voxbook.calls AS x WHERE x.org_id = o.id AND x.vapi_call_id = call_key;
    IF FOUND THEN
        RETURN internal.call_json(rec) || jsonb_build_object('duplicate', true);
    END IF;

    SELECT * INTO appt FROM voxbook.appointments AS a
     WHERE a.org_id = o.id AND a.vapi_call_id = record_call_end.call_id AND a.status = 'confirmed'
     ORDER BY a.created_at DESC LIMIT 1;
    SELECT * INTO h FROM voxbook.holds AS x
     WHERE x.org_id = o.id AND x.vapi_call_id = record_call_end.call_id
     ORDER BY x.created_at DESC LIMIT 1;
    BEGIN
        s := internal.find_service(o.id, coalesce(appt.service_id, h.service_id, sd->>'service', sd->>'serviceType'));
    EXCEPTION WHEN SQLSTATE 'VB404' THEN
        s := NULL;   -- the model named a service the clinic does not have: score without it
    END;
    -- A negative duration is not one (Vapi's durationSeconds is unreliable): the times, else unknown (0).
    seconds := coalesce(CASE WHEN duration_seconds >= 0 THEN duration_seconds END,
                        CASE WHEN ended_at - started_at IS NOT NULL   -- least() would skip a NULL
                             THEN least(extract(epoch FROM ended_at - started_at), 2147483647)::int END, 0);
    scored := api.score_lead(seconds, appt.id IS NOT NULL, coalesce(s.value_tier, 'standard'),
                             transcript,
                             CASE WHEN lower(sd->>'sentiment') IN ('positive', 'neutral', 'negative')
                                  THEN lower(sd->>'sentiment') END);
    who := left(coalesce(h.patient_name, nullif(sd->>'patientName', ''), nullif(sd->>'name', '')),
                (lim->>'customer_name')::int);

    INSERT INTO voxbook.calls AS x (org_id, vapi_call_id, provider_call_sid, customer_phone, customer_name,
                                    started_at, ended_at, duration_seconds, ended_reason, transcript, summary,
                                    structured_data, success_evaluation, appointment_id, service_id,
                                    lead_score, score_reasons, is_hot)
    VALUES (o.id, call_key, provider_call_sid, coalesce(phone, h.patient_phone), who,
            started_at, ended_at, seconds, ended_reason, transcript, summary, sd, success_evaluation,
            appt.id, s.id, (scored->>'score')::int, scored->'reasons',
            (scored->>'score')::int >= o.hot_lead_threshold)
    ON CONFLICT ON CONSTRAINT calls_org_id_vapi_call_id_key DO NOTHING
    RETURNING x.* INTO rec;
    IF rec.id IS NULL THEN   -- a concurrent redelivery won the insert
        SELECT * INTO rec FROM voxbook.calls AS x WHERE x.org_id = o.id AND x.vapi_call_id = call_key;
        RETURN internal.call_json(rec) || jsonb_build_object('duplicate', true);
    END IF;

    IF rec.is_hot THEN
        INSERT INTO voxbook.hot_lead_alerts AS x (org_id, call_id, score)
        VALUES (o.id, rec.id, rec.lead_score)
        RETURNING x.* INTO alert;
        IF o.hot_lead_alert_phone IS NOT NULL THEN
            -- The booked time read first, not in a subquery of the expression below: internal.message reads
            -- a table and is not called per row of a query (on Citus that nests a distributed query).
            SELECT bh.starts_at INTO booked_at FROM voxbook.holds AS bh
             WHERE bh.org_id = appt.org_id AND bh.id = appt.hold_id;
            -- The owner reads the clinic's language, with dates as the clinic writes them (not the caller's).
            owner_tag := internal.clinic_locale(o.locale);
            -- left(..., 1600): sms_outbox.body's limit; the name is cut first so the alert stays readable.
            m := internal.queue_sms(o.id, 'hot_lead', o.hot_lead_alert_phone, left(internal.gsm7(internal.message(
                    'sms.hot_lead', owner_tag, jsonb_build_object(
                    'score', rec.lead_score,
                    'name', coalesce(left(who, (lim->>'alert_name')::int),
                                     internal.message('sms.hot_lead.unknown_caller', owner_tag)),
                    'phone', coalesce(internal.display_phone(rec.customer_phone, o.country),
                                      internal.message('sms.hot_lead.no_number', owner_tag)),
                    'service', coalesce(s.name, internal.message('sms.hot_lead.no_service', owner_tag)),
                    'outcome', CASE WHEN booked_at IS NOT NULL
                                    THEN internal.message('sms.hot_lead.booked', owner_tag,
                                                          internal.when_parts(booked_at, o.time_zone,
                                                                              internal.locale(owner_tag)))
                                    ELSE internal.message('sms.hot_lead.not_booked', owner_tag) END))), 1600));
            UPDATE voxbook.hot_lead_alerts AS x SET sms_id = m.id WHERE x.org_id = alert.org_id AND x.id = alert.id;
        END IF;
        -- On a single PostgreSQL only (internal.notify): on Citus the dashboard polls for new leads.
        PERFORM internal.notify('voxbook_hot_lead', jsonb_build_object('org_id', o.id, 'alert_id', alert.id)::text);
    END IF;
    RETURN internal.call_json(rec) || jsonb_build_object('duplicate', false, 'alert_id', alert.id,
                                                         'alert_sms_id', m.id);
END
$$;

-- Name: FUNCTION record_call_end(org_id uuid, call_id text, started_at timestamp with time zone, ended_at timestamp with time zone, customer_phone text, transcript text, summary text, structured_data jsonb, ended_reason text, success_evaluation text, provider_call_sid text, duration_seconds integer); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.record_call_end(org_id uuid, call_id text, started_at timestamp with time zone, ended_at timestamp with time zone, customer_phone text, transcript text, summary text, structured_data jsonb, ended_reason text, success_evaluation text, provider_call_sid text, duration_seconds integer) IS 'Stores a finished call once (call_id is Vapi''s call.id; a redelivered report changes nothing and returns
"duplicate": true), scores it with api.score_lead (booked = an appointment confirmed on this call; service
from that appointment, the hold, or structured_data.service; sentiment from structured_data.sentiment)
and, at or above the clinic''s hot_lead_threshold, creates one hot-lead alert, queues the owner''s SMS to
hot_lead_alert_phone (in the clinic''s language, its booked time as the clinic''s locale writes it) and NOTIFYs channel voxbook_hot_lead (on a single PostgreSQL; on Citus listeners poll).
Returns {"success": true, "call_id", "vapi_call_id", "score", "reasons", "hot", "booked",
"appointment_id", "duplicate", "alert_id", "alert_sms_id"}.
A caller number that is not a phone number (withheld, ''anonymous'') is stored as unknown.
The report is stored even when Vapi''s fields are oversized: free text is cut to internal.call_field_limits()
(transcript 1,000,000 characters, summary 20,000, name, reason and evaluation 200), the owner''s alert to one
SMS body (1,600), and a call_id over 200 characters is stored under its first 167 characters, ''~'' and its md5
(api.get_call finds it by the whole id).
Times out of range or an end before the start are stored as unknown (NULL), never refused.
Errors: VB404 unknown org; VB400 missing call_id, structured_data not an object.';

-- Name: record_inbound_sms(text, text, text, text, text, uuid[]); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.record_inbound_sms(to_number text, from_number text, body text, message_sid text DEFAULT NULL::text, opt_out_type text DEFAULT NULL::text, org_ids uuid[] DEFAULT NULL::uuid[]) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $_$
DECLARE
    sender text;
    receiver text;
    receiver_country text;
    word text := upper(regexp_replace(btrim(coalesce(body, '')), '[[:space:].!]+$', ''));
    action text;
    orgs uuid[];
    consent_org uuid;
    help_org voxbook.organizations;
    reply text;
    sid text := nullif(btrim(message_sid), '');
    unusable boolean := false;
    answer jsonb;
    help_tag text;
    last_appt timestamptz;
    last_appt_locale text;
    last_hold timestamptz;
    last_hold_locale text;
    to_known boolean;
    routed jsonb;
    preferred uuid;
BEGIN
    IF cardinality(org_ids) > 1000 THEN
        PERFORM internal.fail('VB400', 'org_ids has more than 1000 clinics',
                              'Pass the clinics the webhook resolved (those on the account that received it).');
    END IF;
    IF length(sid) > 64 THEN
        PERFORM internal.fail('VB400', 'MessageSid is too long', 'Pass Twilio''s MessageSid (34 characters).');
    END IF;
    IF sid IS NOT NULL THEN
        -- Twilio redelivers webhooks, late and out of order: a MessageSid seen before changes nothing and
        -- gets the first answer again (else a redelivered START after a STOP would opt the number back in).
        -- A concurrent delivery of the same sid waits here for the first one to commit.
        INSERT INTO voxbook.sms_inbound AS i (message_sid) VALUES (sid) ON CONFLICT ON CONSTRAINT sms_inbound_pkey DO NOTHING;
        IF NOT FOUND THEN
            SELECT i.result INTO answer FROM voxbook.sms_inbound AS i WHERE i.message_sid = sid;
            RETURN coalesce(answer, jsonb_build_object('success', true, 'action', 'none', 'keyword', NULL,
                                                       'orgs', 0, 'reply', NULL))
                   || jsonb_build_object('duplicate', true);
        END IF;
    END IF;
    BEGIN
        -- Twilio sends E.164; a national From is read in the country of the clinic whose number To is.
        receiver := internal.normalize_phone(to_number, NULL);
        SELECT o.country INTO receiver_country FROM voxbook.organizations AS o
         WHERE (o.phone = receiver OR o.sms_from = receiver) AND (org_ids IS NULL OR o.id = ANY (org_ids))
         ORDER BY (o.sms_from = receiver) IS TRUE DESC, o.id LIMIT 1;
        IF receiver_country IS NULL AND org_ids IS NOT NULL THEN
            -- A pool number of the clinics' account: read a national From in their (first) country.
            SELECT o.country INTO receiver_country FROM voxbook.organizations AS o
             WHERE o.id = ANY (org_ids) ORDER BY o.id LIMIT 1;
        END IF;
        sender := internal.normalize_phone(from_number, receiver_country);
    EXCEPTION WHEN SQLSTATE 'VB400' THEN
        -- A short code or an alphanumeric sender: nothing we can opt in or out.
        unusable := true;
    END;
    -- Twilio blocks and unblocks on these whole-body keywords (Advanced Opt-Out says which in OptOutType);
    -- we mirror it so that nothing is even attempted after STOP.
    action := CASE
        WHEN upper(opt_out_type) = 'STOP' OR word IN ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT',
                                                      'OPTOUT', 'REVOKE') THEN 'opt_out'
        WHEN upper(opt_out_type) = 'START' OR word IN ('START', 'YES', 'UNSTOP') THEN 'opt_in'
        WHEN upper(opt_out_type) = 'HELP' OR word IN ('HELP', 'INFO') THEN 'help'
        ELSE 'none' END;
    IF unusable OR sender IS NULL THEN   -- no From at all: nobody to opt in or out (was a NOT NULL 500)
        answer := jsonb_build_object('success', true, 'action', 'none', 'keyword', NULL, 'orgs', 0, 'reply', NULL);
        UPDATE voxbook.sms_inbound AS i SET result = answer WHERE i.message_sid = sid;
        RETURN answer;
    END IF;
    -- To is a clinic's own number: those clinics (of them, the listed ones). Else a pool number.
    SELECT coalesce(array_agg(o.id ORDER BY o.id) FILTER (WHERE org_ids IS NULL OR o.id = ANY (org_ids)), '{}'),
           count(*) > 0
      INTO orgs, to_known
      FROM voxbook.organizations AS o WHERE o.phone = receiver OR o.sms_from = receiver;
    IF NOT to_known AND org_ids IS NOT NULL THEN
        -- A pool number of an account the webhook resolved to these clinics (their own account, shared):
        -- Twilio blocks the sender on that account, so exactly these clinics, and no clinic on another account.
        SELECT coalesce(array_agg(o.id ORDER BY o.id), '{}') INTO orgs FROM voxbook.organizations AS o
         WHERE o.id = ANY (org_ids);
    ELSIF NOT to_known THEN
        -- Sent to a number that is no clinic's own (a Messaging Service pool number): Twilio's opt-out
        -- covers the whole service, so it covers every clinic that knows this number.
        SELECT coalesce(array_agg(DISTINCT ct.org_id), '{}') INTO orgs FROM voxbook.contacts AS ct WHERE ct.phone = sender;
    END IF;
    IF action IN ('opt_out', 'opt_in') THEN
        FOREACH consent_org IN ARRAY orgs LOOP
            PERFORM internal.set_sms_consent(consent_org, sender, action = 'opt_out',
                                             'sms:' || coalesce(nullif(word, ''), upper(opt_out_type)), message_sid);
            IF word = 'CANCEL' THEN
                -- Meant for the appointment, read as an opt-out by the carrier: staff see "may not come"
                -- (46_sms_replies.sql).
                PERFORM internal.flag_may_not_come(consent_org, sender);
            END IF;
        END LOOP;
    ELSIF action = 'help' THEN
        SELECT * INTO help_org FROM voxbook.organizations AS o
         WHERE ((o.phone = receiver OR o.sms_from = receiver) AND (org_ids IS NULL OR o.id = ANY (org_ids)))
            OR (NOT to_known AND o.id = ANY (org_ids))
         ORDER BY (o.sms_from = receiver) IS TRUE DESC, (o.phone = receiver) IS TRUE DESC, o.id LIMIT 1;
        IF FOUND THEN
            -- In the language the patient last booked in at this clinic (their newest appointment or hold, by
            -- their number; NULL there: the clinic's), else the clinic's. Two reads, each one clinic's shard.
            SELECT a.created_at, a.locale INTO last_appt, last_appt_locale
              FROM voxbook.appointments AS a
              JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
             WHERE a.org_id = help_org.id AND ct.phone = sender
             ORDER BY a.created_at DESC LIMIT 1;
            SELECT h.created_at, h.locale INTO last_hold, last_hold_locale
              FROM voxbook.holds AS h
             WHERE h.org_id = help_org.id AND h.patient_phone = sender
             ORDER BY h.created_at DESC LIMIT 1;
            help_tag := CASE WHEN last_hold > last_appt OR (last_appt IS NULL AND last_hold IS NOT NULL)
                             THEN last_hold_locale ELSE last_appt_locale END;
            help_tag := coalesce(help_tag, internal.clinic_locale(help_org.locale));
            reply := internal.gsm7(coalesce(help_org.help_text,
                                            internal.message('sms.help', help_tag, jsonb_build_object(
                                               'clinic', help_org.name,
                                               'clinic_phone', internal.display_phone(help_org.phone, help_org.country)))));
        END IF;
    ELSIF word <> '' THEN
        -- Not a carrier keyword: a reply (C, R, anything else) to the clinic of the sender's next appointment, else
        -- the clinic whose own number To is (db/functions/46_sms_replies.sql).
        SELECT o.id INTO preferred FROM voxbook.organizations AS o
         WHERE (o.phone = receiver OR o.sms_from = receiver) AND o.id = ANY (orgs)
         ORDER BY (o.sms_from = receiver) IS TRUE DESC, (o.phone = receiver) IS TRUE DESC, o.id LIMIT 1;
        routed := internal.route_inbound_reply(orgs, sender, preferred, body, sid);
        reply := routed->>'reply';
    END IF;
    -- No reply to STOP/START: Twilio confirms those itself, and a reply after STOP would be refused.
    answer := jsonb_build_object('success', true, 'action', action, 'keyword', nullif(word, ''),
                                 'orgs', cardinality(orgs), 'reply', reply, 'reply_to', routed->'kind');
    -- Kept for redeliveries without the text of an ordinary message (its "keyword" is the whole body).
    UPDATE voxbook.sms_inbound AS i
       SET result = CASE WHEN action = 'none' THEN answer || '{"keyword": null}' ELSE answer END
     WHERE i.message_sid = sid;
    RETURN answer;
END
$_$;

-- Name: FUNCTION record_inbound_sms(to_number text, from_number text, body text, message_sid text, opt_out_type text, org_ids uuid[]); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.record_inbound_sms(to_number text, from_number text, body text, message_sid text, opt_out_type text, org_ids uuid[]) IS 'Handles an inbound SMS (Twilio''s To, From, Body, MessageSid, OptOutType). The whole body, case-insensitive,
decides: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT (and OPTOUT, REVOKE) opt the sender out, START, YES,
UNSTOP opt it back in, HELP/INFO returns the clinic''s help_text (or a default naming the clinic and its phone,
in the language of the sender''s newest appointment or hold at that clinic, else the clinic''s).
The clinic is the one whose phone or sms_from is To; for any other To (a Messaging Service number) every
clinic that has the sender as a contact. org_ids (optional, at most 1000): the clinics the webhook resolved
(those on the carrier account that received it; api/twilio_routes.py): only these are acted on -- of the
clinics whose number is To, those listed; for any other To, all of them (Twilio blocks the sender on their
account), never a clinic on another account. An opt-out creates the contact if needed, records a consent event
and skips every queued message to that number; later ones are skipped at queue time.
Idempotent by MessageSid: a MessageSid handled before (a redelivered webhook) changes nothing and gets the
first answer again, with "duplicate": true (an ordinary message''s "keyword" is not kept: null).
CANCEL also marks the sender''s next appointment at each of those clinics "may not come" (may_not_come_at).
Any other text is a reply (db/functions/46_sms_replies.sql), routed to the clinic of the sender''s next
appointment (else the one whose number To is): C confirms that appointment, R asks the front desk to call back
to reschedule, anything else goes to the clinic''s SMS inbox and the front desk ("reply_to": "confirm",
"reschedule", "no_appointment", "inbox"; null for keywords and unrouted texts).
Returns {"success": true, "action": "opt_out" | "opt_in" | "help" | "none", "keyword", "orgs" (clinics
affected), "reply" (text to answer with, or null), "reply_to"}. Errors: VB400 a MessageSid over 64 characters, over 1000
org_ids; none for other odd input (a short-code sender is "none").
Example: SELECT api.record_inbound_sms(''+15551234567'', ''+15557654321'', ''STOP'', ''SM0123...'');';

-- Name: record_sms_status(text, text, text, text, uuid, uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.record_sms_status(message_sid text, message_status text, error_code text DEFAULT NULL::text, error_message text DEFAULT NULL::text, org_id uuid DEFAULT NULL::uuid, message_id uuid DEFAULT NULL::uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_custom_plan'
    AS $$
DECLARE
    m voxbook.sms_outbox;
    ours text := internal.twilio_status_to_ours(message_status);
    linking boolean := false;
    advance boolean;
    now_ts timestamptz := internal.clock();
BEGIN
    PERFORM internal.require(nullif(btrim(message_sid), ''), 'message_sid');
    PERFORM internal.require(nullif(btrim(message_status), ''), 'message_status');
    IF org_id IS NOT NULL THEN
        -- The callback URL names the clinic (its token signed it): only that clinic's messages, never another
        -- clinic's row that happens to carry the sid. One shard on Citus.
        SELECT * INTO m FROM voxbook.sms_outbox AS x
         WHERE x.org_id = record_sms_status.org_id AND x.provider_message_id = record_sms_status.message_sid
           FOR UPDATE;
    ELSE
        -- Found across clinics unlocked, then locked by its key: on Citus a FOR UPDATE over several shards is
        -- refused. The UPDATE below works from the locked row.
        SELECT * INTO m FROM voxbook.sms_outbox AS x WHERE x.provider_message_id = record_sms_status.message_sid;
        IF FOUND THEN
            SELECT * INTO m FROM voxbook.sms_outbox AS x WHERE x.org_id = m.org_id AND x.id = m.id FOR UPDATE;
        END IF;
    END IF;
    IF NOT FOUND AND org_id IS NOT NULL AND message_id IS NOT NULL THEN
        -- The callback URL names our row: the first news of a send whose response we never got.
        SELECT * INTO m FROM voxbook.sms_outbox AS x
         WHERE x.org_id = record_sms_status.org_id AND x.id = record_sms_status.message_id
           AND x.provider_message_id IS NULL
           FOR UPDATE;
        linking := FOUND;
    END IF;
    IF m.id IS NULL THEN
        RETURN jsonb_build_object('success', true, 'found', false, 'changed', false);
    END IF;
    -- Callbacks come out of order and twice: only a higher rank moves the status, terminal stays terminal.
    -- A newly linked row takes the provider's word whatever we believed, since we never knew its fate.
    advance := ours IS NOT NULL
               AND (linking OR internal.sms_status_rank(ours) > internal.sms_status_rank(m.status));
    UPDATE voxbook.sms_outbox AS x
       SET status = CASE WHEN advance THEN ours ELSE x.status END,
           provider_message_id = record_sms_status.message_sid,
           provider_status = CASE WHEN internal.twilio_status_rank(message_status) > internal.twilio_status_rank(x.provider_status)
                                  THEN lower(message_status) ELSE x.provider_status END,
           error_code = CASE WHEN advance AND nullif(record_sms_status.error_code, '') IS NOT NULL
                             THEN left(record_sms_status.error_code, 40) ELSE x.error_code END,
           error_message = CASE WHEN advance AND nullif(record_sms_status.error_code, '') IS NOT NULL
                                THEN left(record_sms_status.error_message, 500) ELSE x.error_message END,
           sent_at = CASE WHEN advance THEN coalesce(x.sent_at, now_ts) ELSE x.sent_at END,
           delivered_at = CASE WHEN advance AND ours = 'delivered' THEN now_ts ELSE x.delivered_at END,
           skip_reason = CASE WHEN linking THEN NULL ELSE x.skip_reason END,
           body = CASE WHEN linking THEN internal.settled_body(x.body, x.redact_after_send) ELSE x.body END,
           locked_by = CASE WHEN linking THEN NULL ELSE x.locked_by END,
           locked_at = CASE WHEN linking THEN NULL ELSE x.locked_at END,
           status_updated_at = now(), updated_at = now()
     WHERE x.org_id = m.org_id AND x.id = m.id
    RETURNING x.* INTO m;
    IF record_sms_status.error_code = '21610' THEN
        PERFORM internal.set_sms_consent(m.org_id, m.recipient, true, 'twilio:21610');
    END IF;
    RETURN jsonb_build_object('success', true, 'found', true, 'changed', advance OR linking,
                              'message_id', m.id, 'org_id', m.org_id, 'kind', m.kind, 'status', m.status,
                              'error_code', m.error_code);
END
$$;

-- Name: FUNCTION record_sms_status(message_sid text, message_status text, error_code text, error_message text, org_id uuid, message_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.record_sms_status(message_sid text, message_status text, error_code text, error_message text, org_id uuid, message_id uuid) IS 'Applies a Twilio status callback (MessageSid, MessageStatus, ErrorCode). The message is found by its
provider id -- among the messages of org_id when given (our status callback URL names the clinic: another
clinic''s message is never touched, "found": false), else across clinics -- or by org_id + message_id (our
status callback URL carries both) when the worker never learnt the sid. Statuses only move forward (queued < sending/unknown < sent < delivered | undelivered | failed):
duplicates and late callbacks change nothing, a terminal status stays. Twilio''s accepted/queued/sending/sent
are our ''sent'', read is ''delivered'', canceled is ''failed''; provider_status keeps Twilio''s word.
Error code 21610 opts the recipient out. Returns {"success": true, "found", "changed", "message_id",
"org_id", "kind", "status", "error_code"} ({"success": true, "found": false} for an unknown sid).
Errors: VB400 missing message_sid or message_status.
Example: SELECT api.record_sms_status(''SM0123...'', ''delivered'');';

-- Name: record_transfer_failure(uuid, text, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.record_transfer_failure(org_id uuid, call_id text, caller_phone text DEFAULT NULL::text, ended_reason text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    cb jsonb;
BEGIN
    IF NOT internal.is_failed_transfer(ended_reason) THEN
        RETURN jsonb_build_object('success', true, 'recorded', false);
    END IF;
    PERFORM internal.require(nullif(btrim(call_id), ''), 'call_id');
    cb := internal.request_callback(o.id, 'transfer_failed',
                                    format('The transfer to the front desk failed (%s)', left(ended_reason, 200)),
                                    caller_phone, NULL, call_id);
    RETURN jsonb_build_object('success', true, 'recorded', true, 'duplicate', cb->'duplicate',
                              'callback_request', cb->'callback_request');
END
$$;

-- Name: FUNCTION record_transfer_failure(org_id uuid, call_id text, caller_phone text, ended_reason text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.record_transfer_failure(org_id uuid, call_id text, caller_phone text, ended_reason text) IS 'A call''s end (Vapi''s status-update or end-of-call-report endedReason): when it says a transfer failed
(call.in-progress.error-transfer-failed, a warm-transfer error, operator busy; not assistant-forwarded-call), a
callback request (kind transfer_failed) is recorded and texted to the front desk, once per call.
Returns {"success": true, "recorded": false} for any other reason, else {"success": true, "recorded": true,
"duplicate": <recorded before for this call>, "callback_request": {...}}.
Errors: VB404 unknown org; VB400 call_id missing (for a failed transfer).
Example: SELECT api.record_transfer_failure(:org, ''call-1'', ''+15551230000'', ''call.in-progress.error-transfer-failed'');';

-- Name: release_calendar_claims(text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.release_calendar_claims(worker_id text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    n int;
BEGIN
    PERFORM internal.require(worker_id, 'worker_id');
    UPDATE voxbook.calendar_connections AS x SET locked_by = NULL, lease_until = NULL
     WHERE x.locked_by = release_calendar_claims.worker_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN jsonb_build_object('success', true, 'released', n);
END
$$;

-- Name: FUNCTION release_calendar_claims(worker_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.release_calendar_claims(worker_id text) IS 'For the calendar sync worker stopping: gives back the connections it holds (another worker may sync them at
once instead of after the lease). Across clinics (not delegated). Returns {"success": true, "released"}.
Errors: VB400 worker_id missing.
Example: SELECT api.release_calendar_claims(''host:1234'');';

-- Name: release_hold(uuid, uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.release_hold(hold_id uuid, org_id uuid, reason text DEFAULT 'released'::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION release_hold(hold_id uuid, org_id uuid, reason text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.release_hold(hold_id uuid, org_id uuid, reason text) IS 'Frees a live hold at once (caller hung up or changed their mind); idempotent on a hold that is already
released or expired. A confirmed hold is refused: cancel the appointment instead.
Returns {"success": true, "hold_id", "status", "message"} or
{"success": false, "code": "already_confirmed", "error", "hold_id", "status"}. Errors: VB404 unknown hold.
Example: SELECT api.release_hold(''<hold_id>'', ''a0000000-0000-0000-0000-000000000001'');';

-- Name: release_sms_claims(text, uuid[]); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.release_sms_claims(worker_id text, message_ids uuid[] DEFAULT NULL::uuid[]) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_custom_plan'
    AS $$
DECLARE
    n int;
    requeued boolean;
BEGIN
    PERFORM internal.require(worker_id, 'worker_id');
    -- Meant for rows the worker never began to send (no api.begin_sms_send in this claim): they are
    -- claimable again at once and no attempt was counted. A row the provider may have (an earlier
    -- ambiguous attempt, or a send begun in this claim) goes back to 'unknown': looked up before any resend.
    UPDATE voxbook.sms_outbox AS x
       SET status = CASE WHEN x.provider_may_have THEN 'unknown' ELSE 'queued' END,
           locked_by = NULL, locked_at = NULL, lease_until = NULL, updated_at = now()
     WHERE x.status = 'sending' AND x.locked_by = release_sms_claims.worker_id
       AND (message_ids IS NULL OR x.id = ANY (message_ids));
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM internal.notify('voxbook_sms');   -- claimable again at once: another worker may take them
    END IF;
    RETURN jsonb_build_object('success', true, 'released', n);
END
$$;

-- Name: FUNCTION release_sms_claims(worker_id text, message_ids uuid[]); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.release_sms_claims(worker_id text, message_ids uuid[]) IS 'Gives back messages a stopping worker claimed but did not send (all of its claims when message_ids is
NULL): they are claimable again at once, no attempt is counted. A message whose request may have reached the
provider (its send had begun) becomes ''unknown'' instead: it is looked up before any resend. Returns {"success": true, "released": n}. Errors: VB400 no worker_id.
Example: SELECT api.release_sms_claims(''host-1:4242'');';

-- Name: remove_from_waitlist(uuid, uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.remove_from_waitlist(org_id uuid, waitlist_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION remove_from_waitlist(org_id uuid, waitlist_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.remove_from_waitlist(org_id uuid, waitlist_id uuid) IS 'Takes a waiting patient off the waitlist (status removed; their live offer ends).
Idempotent; an entry already booked, removed or expired is returned as it is.
Returns {"success": true, "waitlist_id", "status"}. Errors: VB404 unknown org or entry; VB400 waitlist_id missing.
Example: SELECT api.remove_from_waitlist(''a0000000-0000-0000-0000-000000000001'', ''<waitlist_id>'');';

-- Name: reschedule_appointment(uuid, uuid, timestamp with time zone, text, text, boolean, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.reschedule_appointment(appointment_id uuid, org_id uuid, slot_time timestamp with time zone, calendar_id text DEFAULT NULL::text, patient_phone text DEFAULT NULL::text, notify boolean DEFAULT true, staff_user text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION reschedule_appointment(appointment_id uuid, org_id uuid, slot_time timestamp with time zone, calendar_id text, patient_phone text, notify boolean, staff_user text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.reschedule_appointment(appointment_id uuid, org_id uuid, slot_time timestamp with time zone, calendar_id text, patient_phone text, notify boolean, staff_user text) IS 'Moves an appointment to slot_time (optionally to another calendar, which must offer its service), keeping its
duration and its service''s buffers. The new time is claimed before the old one is freed, in one transaction:
if the new time is taken the appointment keeps its old time ({"success": false, "code": "slot_taken", "error",
"appointment_id", "slot_time", "calendar_id", "alternatives"}: the other times, as api.claim_slot_atomic gives
them). The pending reminder follows the appointment and (notify) an SMS tells the patient. With patient_phone
the appointment must be that caller''s.
Cancellation notice: without staff_user an appointment starting within the clinic''s cancellation_notice_minutes
is not moved ({"success": false, "code": "within_notice", ...} as api.cancel_appointment); staff_user overrides
it and the move is audited (voxbook.audit_log). Never a tool argument.
Returns the appointment with the new "starts_at" and "message".
Errors: VB404 unknown org, appointment or calendar; VB400 slot not bookable (see api.claim_slot_atomic), a
calendar that does not offer the appointment''s service.';

-- Name: reschedule_my_appointment(uuid, timestamp with time zone, text, text, text, uuid, integer, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.reschedule_my_appointment(org_id uuid, slot_time timestamp with time zone, call_id text DEFAULT NULL::text, caller_phone text DEFAULT NULL::text, phone text DEFAULT NULL::text, appointment_id uuid DEFAULT NULL::uuid, which integer DEFAULT NULL::integer, at text DEFAULT NULL::text, calendar_id text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION reschedule_my_appointment(org_id uuid, slot_time timestamp with time zone, call_id text, caller_phone text, phone text, appointment_id uuid, which integer, at text, calendar_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.reschedule_my_appointment(org_id uuid, slot_time timestamp with time zone, call_id text, caller_phone text, phone text, appointment_id uuid, which integer, at text, calendar_id text) IS 'Moves one of a caller''s upcoming appointments to slot_time (a "time" from api.check_availability; the voice
tool reschedule_my_appointment), optionally to calendar_id. The caller and the appointment as in
api.cancel_my_appointment; then exactly api.reschedule_appointment on the caller''s path (the clinic''s
cancellation notice holds; the new time is claimed before the old one is freed, atomically; the patient is
texted). Returns api.reschedule_appointment''s result (a taken time: "slot_taken" with "alternatives"), or the
refusals of api.cancel_my_appointment.
Errors: VB404 unknown org, appointment or calendar; VB400 slot not bookable, a malformed phone, which below 1, an
unreadable at.
Example: SELECT api.reschedule_my_appointment(''a0000000-0000-0000-0000-000000000001'', ''2030-01-16T15:00:00Z'',
         ''call-123'', ''+15555550123'', which => 1);';

-- Name: resend_sms(uuid, uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.resend_sms(org_id uuid, message_id uuid, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    who constant text := internal.changed_by(changed_by);
    m voxbook.sms_outbox;
    earlier voxbook.sms_outbox;
    fresh voxbook.sms_outbox;
    refused jsonb;
    body text;
    parts record;
    for_hold uuid;
    for_starts timestamptz;
BEGIN
    PERFORM internal.require(message_id, 'message_id');
    SELECT * INTO m FROM voxbook.sms_outbox AS x WHERE x.org_id = o.id AND x.id = resend_sms.message_id;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown message', 'Use a message_id from api.list_failed_sms for this clinic.');
    END IF;
    -- The appointment first, then the message: the order every appointment change locks in, so two desks
    -- resending at once (or a resend beside a move) take turns, and the second sees the first's text.
    IF m.appointment_id IS NOT NULL THEN
        PERFORM internal.lock_appointment(o.id, m.appointment_id, NULL);
    END IF;
    SELECT * INTO m FROM voxbook.sms_outbox AS x WHERE x.org_id = o.id AND x.id = resend_sms.message_id FOR UPDATE;
    SELECT * INTO earlier FROM voxbook.sms_outbox AS x WHERE x.org_id = m.org_id AND x.resent_from = m.id;
    IF FOUND THEN   -- resent once already: that text, not another
        RETURN jsonb_build_object('success', true, 'duplicate', true, 'message_id', earlier.id, 'resent_from', m.id,
                                  'kind', earlier.kind, 'status', earlier.status);
    END IF;
    refused := internal.resend_refusal(m, now_ts);
    IF refused IS NOT NULL THEN
        RETURN internal.refusal(refused->>'code', refused->>'error', jsonb_build_object('message_id', m.id));
    END IF;
    IF m.appointment_id IS NOT NULL AND m.kind IN ('confirmation', 'reminder', 'reschedule', 'cancellation') THEN
        -- Written again from the appointment as it is now (it may have moved since).
        body := internal.appointment_sms(m.kind, m.org_id, m.appointment_id);
        IF m.kind = 'reminder' THEN
            SELECT h.id, h.starts_at INTO for_hold, for_starts FROM voxbook.appointments AS a
              JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
             WHERE a.org_id = m.org_id AND a.id = m.appointment_id;
        END IF;
    ELSE
        body := m.body;   -- an owner's alert or a notice: kept as it was (only codes are redacted)
    END IF;
    parts := internal.sms_parts(body);
    -- Inserted here rather than by internal.queue_sms, which cannot name resent_from: the row must carry it from
    -- the start (the unique index sms_outbox_resent_once is the "once", and keeps it out of the one-live-
    -- confirmation index). Opt-outs were refused above, and the worker checks them again before sending.
    INSERT INTO voxbook.sms_outbox AS x (org_id, kind, appointment_id, hold_id, recipient, sender, body,
                                         redact_after_send, encoding, segments, status, send_after, expires_at,
                                         resent_from, reminder_hold_id, reminder_starts_at)
    VALUES (m.org_id, m.kind, m.appointment_id, m.hold_id, m.recipient, o.sms_from, body, false,
            parts.encoding, parts.segments, 'queued', now_ts, m.expires_at, m.id, for_hold, for_starts)
    RETURNING x.* INTO fresh;
    PERFORM internal.notify('voxbook_sms');
    PERFORM internal.audit(m.org_id, who, 'resend_sms', 'sms', fresh.id::text, NULL,
                           jsonb_build_object('resent_from', m.id, 'kind', m.kind, 'appointment_id', m.appointment_id,
                                              'original_status', m.status, 'original_error_code', m.error_code));
    RETURN jsonb_build_object('success', true, 'duplicate', false, 'message_id', fresh.id, 'resent_from', m.id,
                              'kind', fresh.kind, 'status', fresh.status);
END
$$;

-- Name: FUNCTION resend_sms(org_id uuid, message_id uuid, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.resend_sms(org_id uuid, message_id uuid, changed_by text) IS 'Staff resend a text that did not arrive (status failed, undelivered or skipped; see api.list_failed_sms): a new
message is queued (sms_outbox.resent_from = the old one) for the SMS worker, an appointment''s text written again
from the appointment as it is now, any other (an owner''s alert, a notice) with the same body. Once per message:
a second call returns the first resend ("duplicate": true). Never a second copy: refused while a newer text of
that kind for the appointment is queued or out. Audited (action resend_sms, entity sms).
Returns {"success": true, "duplicate", "message_id" (the new one), "resent_from", "kind", "status"} or
{"success": false, "code": "not_resendable" (a code, or a message that is not failed, undelivered or skipped)
| "opted_out" | "expired" | "cancelled" (the appointment) | "past" (it has started) | "already_sent", "error",
"message_id"}.
Errors: VB404 unknown org or message (another clinic''s included); VB400 message_id missing.
Example: SELECT api.resend_sms(:org, ''<message_id>'', changed_by => ''Ana'');';

-- Name: resolve_callback_request(uuid, uuid, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.resolve_callback_request(org_id uuid, callback_request_id uuid, done_by text, note text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts constant timestamptz := internal.clock();
    r voxbook.callback_requests;
    -- required, so not internal.changed_by (which would put the database user in for a blank one); capped
    -- as every audited name is (63_audit.sql), never refused for its length
    who constant text := internal.audit_name(done_by);
BEGIN
    IF who IS NULL THEN
        PERFORM internal.fail('VB400', 'done_by is required', 'Name the staff member who called back.');
    END IF;
    IF length(note) > 1000 THEN
        PERFORM internal.fail('VB400', 'note is too long', 'At most 1000 characters.');
    END IF;
    SELECT * INTO r FROM voxbook.callback_requests AS x
     WHERE x.org_id = o.id AND x.id = callback_request_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'callback request not found', 'Use an id from api.list_callback_requests of this clinic.');
    END IF;
    IF r.status = 'done' THEN
        RETURN jsonb_build_object('success', true, 'already_done', true, 'callback_request', internal.callback_json(r, o));
    END IF;
    UPDATE voxbook.callback_requests AS x
       SET status = 'done', done_at = now_ts, done_by = who,
           note = coalesce(resolve_callback_request.note, x.note)
     WHERE x.org_id = o.id AND x.id = r.id
    RETURNING x.* INTO r;
    RETURN jsonb_build_object('success', true, 'already_done', false, 'callback_request', internal.callback_json(r, o));
END
$$;

-- Name: FUNCTION resolve_callback_request(org_id uuid, callback_request_id uuid, done_by text, note text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.resolve_callback_request(org_id uuid, callback_request_id uuid, done_by text, note text) IS 'Marks a callback request done (the clinic called back): who (done_by, required; a longer one than 200
characters is shortened as internal.audit_name does, a trailing <email> kept whole), when, an optional note.
Idempotent: a request already done is returned as it is ({"already_done": true}).
Returns {"success": true, "already_done": bool, "callback_request": {... as api.list_callback_requests}}.
Errors: VB404 unknown org or request (another clinic''s included); VB400 done_by missing, note too long.
Example: SELECT api.resolve_callback_request(:org, :id, done_by => ''ana'', note => ''rebooked for Friday'');';

-- Name: resolve_sms_inbox_item(uuid, uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.resolve_sms_inbox_item(org_id uuid, inbox_id uuid, done_by text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION resolve_sms_inbox_item(org_id uuid, inbox_id uuid, done_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.resolve_sms_inbox_item(org_id uuid, inbox_id uuid, done_by text) IS 'Marks a message of the clinic''s SMS inbox handled (status done) by done_by (a staff member''s name; a longer one
than 200 characters is shortened as internal.audit_name does, a trailing <email> kept whole). Already
done: nothing changes ("changed": false, the first done_by and done_at stay). Returns {"success": true,
"inbox_id", "status": "done", "changed", "done_at", "done_by"}. Errors: VB404 unknown org or inbox_id (another
clinic''s message is unknown here); VB400 missing inbox_id or done_by.
Example: SELECT api.resolve_sms_inbox_item(''a0000000-0000-0000-0000-000000000001'', ''<inbox_id>'', ''Ana'');';

-- Name: revoke_calendar_feed_tokens(uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.revoke_calendar_feed_tokens(org_id uuid, calendar_id text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    c voxbook.calendars := internal.require_calendar(org_id, calendar_id);
    n int;
BEGIN
    PERFORM internal.require_org(org_id);
    UPDATE voxbook.calendar_feed_tokens AS x SET revoked_at = now()
     WHERE x.org_id = c.org_id AND x.calendar_id = c.id AND x.revoked_at IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN jsonb_build_object('success', true, 'calendar_id', c.id, 'revoked', n);
END
$$;

-- Name: FUNCTION revoke_calendar_feed_tokens(org_id uuid, calendar_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.revoke_calendar_feed_tokens(org_id uuid, calendar_id text) IS 'Revokes every feed token of a calendar (its subscribers get 404 from then on):
{"success": true, "calendar_id", "revoked": <count>}. Errors: VB404 unknown org or calendar.';

-- Name: revoke_dashboard_token(uuid, uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.revoke_dashboard_token(org_id uuid, token_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    n int;
    now_ts timestamptz := now();
BEGIN
    PERFORM internal.require_org(org_id);
    PERFORM internal.require(token_id, 'token_id');
    -- now() as a value: Citus refuses a non-IMMUTABLE call inside COALESCE of an UPDATE it routes.
    UPDATE voxbook.dashboard_tokens AS x SET revoked_at = coalesce(x.revoked_at, now_ts)
     WHERE x.org_id = revoke_dashboard_token.org_id AND x.id = revoke_dashboard_token.token_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN
        PERFORM internal.fail('VB404', 'unknown dashboard token', 'Use the token_id returned by api.issue_dashboard_token for this clinic.');
    END IF;
    -- Every browser logged in with it is logged out at its next request.
    DELETE FROM voxbook.dashboard_sessions AS s
     WHERE s.org_id = revoke_dashboard_token.org_id AND s.token_id = revoke_dashboard_token.token_id;
    RETURN jsonb_build_object('success', true, 'token_id', token_id, 'revoked', true);
END
$$;

-- Name: FUNCTION revoke_dashboard_token(org_id uuid, token_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.revoke_dashboard_token(org_id uuid, token_id uuid) IS 'Revokes a dashboard token and ends the sessions opened with it. Idempotent.
Returns {"success": true, "token_id", "revoked": true}. Errors: VB404 unknown org or token.';

-- Name: run_tool(uuid, text, jsonb); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.run_tool(org_id uuid, function_name text, args jsonb DEFAULT '{}'::jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
BEGIN
    PERFORM internal.require_tool_args(function_name, args);
    RETURN jsonb_build_object('success', true, 'response', internal.tool_response(o, function_name, args));
END
$$;

-- Name: FUNCTION run_tool(org_id uuid, function_name text, args jsonb); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.run_tool(org_id uuid, function_name text, args jsonb) IS 'A tool call without a tool call id (the seed''s per-tool endpoints): runs api.<function_name>(org_id => org_id,
<args>) like api.run_tool_call, but stores nothing, so a redelivery runs again.
Returns {"success": true, "response": {"answer": <the function''s result>, "spoken": <the assistant''s line,
from the message catalogue>}}.
Errors: the function''s own; VB404 unknown org; VB400 unknown function_name, args not an object or with org_id.
Example: SELECT api.run_tool(''a0000000-0000-0000-0000-000000000001'', ''check_availability'',
         ''{"date": "2026-03-02", "spread": "3"}'');';

-- Name: run_tool_call(uuid, text, text, text, jsonb, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.run_tool_call(org_id uuid, tool_call_id text, tool_name text, function_name text, args jsonb DEFAULT '{}'::jsonb, call_id text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    t voxbook.tool_calls;
    answered jsonb;
BEGIN
    PERFORM internal.require_tool_call_id(tool_call_id);
    PERFORM internal.require(nullif(btrim(tool_name), ''), 'tool_name');
    IF length(tool_name) > 64 THEN
        PERFORM internal.fail('VB400', 'tool_name is too long', 'Vapi tool names have at most 64 characters.');
    END IF;
    PERFORM internal.require_tool_args(function_name, args);

    -- Our row first, its response to come below in this transaction: a twin delivered at the same moment
    -- waits in this INSERT for our commit, then finds the stored result (or, had we rolled back, runs
    -- itself). A row lock, not an advisory lock: on Citus that holds only on the node where it is taken;
    -- the row is on the clinic's shard wherever the statement runs.
    INSERT INTO voxbook.tool_calls AS x (org_id, tool_call_id, tool_name, vapi_call_id, response)
    VALUES (o.id, tool_call_id, tool_name, nullif(btrim(call_id), ''), NULL)
    ON CONFLICT ON CONSTRAINT tool_calls_pkey DO NOTHING;
    IF NOT FOUND THEN
        SELECT * INTO t FROM voxbook.tool_calls AS x
         WHERE x.org_id = o.id AND x.tool_call_id = run_tool_call.tool_call_id;
        IF t.tool_name <> run_tool_call.tool_name THEN
            PERFORM internal.fail('VB409', 'tool_call_id was already used for another tool',
                                  'Each tool call needs its own id; Vapi''s toolCallId is unique per call.',
                                  format('used for %s', t.tool_name));
        END IF;
        -- A redelivery comes in the same call. The same id in another call (providers that number their tool
        -- calls: call_0, call_1, ...) is not one, and must never answer with another caller's result.
        IF t.vapi_call_id <> nullif(btrim(call_id), '') THEN
            PERFORM internal.fail('VB409', 'tool_call_id was already used in another call',
                                  'Each tool call needs its own id; Vapi''s toolCallId is unique per call.');
        END IF;
        -- A record stored before the spoken line was (migration 0015) gets it worded now, from its result.
        RETURN jsonb_build_object('success', true, 'replay', true, 'tool_call_id', t.tool_call_id,
                                  'response', CASE WHEN t.response ? 'spoken' THEN t.response
                                                   ELSE t.response || jsonb_build_object('spoken',
                                                        internal.spoken_line(function_name, t.response->'answer',
                                                                             internal.call_locale(o, call_id), o.time_zone)) END,
                                  'first_answered_at', internal.utc_iso(t.created_at));
    END IF;

    answered := internal.tool_response(o, function_name, args, call_id);
    UPDATE voxbook.tool_calls AS x SET response = answered
     WHERE x.org_id = o.id AND x.tool_call_id = run_tool_call.tool_call_id;
    -- What was stored is answered itself (a jsonb value in, the same value out): a replay reads it back equal.
    RETURN jsonb_build_object('success', true, 'replay', false, 'tool_call_id', tool_call_id, 'response', answered);
END
$$;

-- Name: FUNCTION run_tool_call(org_id uuid, tool_call_id text, tool_name text, function_name text, args jsonb, call_id text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.run_tool_call(org_id uuid, tool_call_id text, tool_name text, function_name text, args jsonb, call_id text) IS 'One Vapi tool call in one statement: inserts its row for (org_id, tool_call_id) first (a row lock held
until the transaction ends), returns the result stored for that id if there is one, else runs api.<function_name>(org_id => org_id, <args>) and stores its
result and the line the assistant says for it (from the message catalogue, voxbook.message_templates), in
the same transaction as the booking change. A concurrent redelivery waits for the first to commit
and gets its result; a call whose function raises stores nothing.
function_name: one of check_availability, claim_slot_atomic, send_otp_code, verify_otp, send_confirmation_sms,
cancel_appointment, reschedule_appointment, find_my_appointments, cancel_my_appointment, reschedule_my_appointment,
join_waitlist. args: the function''s other named parameters, values as text
(cast by PostgreSQL), and optionally "language" (the caller''s, e.g. "es": recorded for the call, see
api.set_call_language; the line is then in it). call_id: Vapi''s call.id. The line is in the call''s language
(a language the clinic does not offer: its default).
Returns {"success": true, "replay": false, "tool_call_id", "response": {"answer": <the function''s result>,
"spoken": <the assistant''s line>}} for a new call, or {"success": true, "replay": true, "tool_call_id", "response", "first_answered_at"} with the
response stored the first time.
Errors: the function''s own; VB404 unknown org; VB400 missing or too long tool_call_id, missing or too long
tool_name, unknown function_name, args not an object or with org_id; VB409 the id was used for another tool or in another call (both call_ids given and different).
Example: SELECT api.run_tool_call(''a0000000-0000-0000-0000-000000000001'', ''call_51kj'', ''reserve_atomic'',
         ''claim_slot_atomic'', ''{"calendar_id": "cal-smith", "slot_time": "2026-03-02T14:00:00Z",
         "patient_name": "John Smith", "patient_phone": "+15555550123", "call_sid": "b1223960"}'', ''b1223960'');';

-- Name: score_lead(integer, boolean, text, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.score_lead(duration_seconds integer DEFAULT 0, booked boolean DEFAULT false, service_value text DEFAULT 'standard'::text, transcript text DEFAULT NULL::text, sentiment text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    reasons jsonb := '[]';
    score int := 0;
    t text := lower(coalesce(transcript, ''));
    d int := greatest(coalesce(duration_seconds, 0), 0);
    points int;
BEGIN
    IF service_value IS NOT NULL AND service_value NOT IN ('low', 'standard', 'high') THEN
        PERFORM internal.fail('VB400', 'service_value must be low, standard or high', 'Use the value_tier of the service.');
    END IF;
    IF sentiment IS NOT NULL AND lower(sentiment) NOT IN ('positive', 'neutral', 'negative') THEN
        PERFORM internal.fail('VB400', 'sentiment must be positive, neutral or negative', 'Leave it out when unknown.');
    END IF;
    -- A longer conversation is a more serious caller: this is the base of the score.
    points := CASE WHEN d >= 300 THEN 60 WHEN d >= 180 THEN 45 WHEN d >= 60 THEN 30 WHEN d > 0 THEN 10 ELSE 0 END;
    score := score + points;
    reasons := reasons || jsonb_build_object('factor', 'duration', 'points', points,
                                             'detail', format('%s min %s s call', d / 60, d % 60));
    IF booked THEN
        score := score + 20;
        reasons := reasons || jsonb_build_object('factor', 'booked', 'points', 20, 'detail', 'booked an appointment');
    END IF;
    IF service_value = 'high' THEN
        score := score + 5;
        reasons := reasons || jsonb_build_object('factor', 'service_value', 'points', 5, 'detail', 'high-value service');
    END IF;
    IF t ~ '\m(price|prices|cost|costs|how much|afford|payment plan)\M' THEN
        score := score + 5;
        reasons := reasons || jsonb_build_object('factor', 'asked_price', 'points', 5, 'detail', 'asked about price');
    END IF;
    IF t ~ '\m(insurance|insured|coverage|covered|copay)\M' THEN
        score := score + 5;
        reasons := reasons || jsonb_build_object('factor', 'asked_insurance', 'points', 5, 'detail', 'asked about insurance');
    END IF;
    IF lower(sentiment) = 'positive' THEN
        score := score + 5;
        reasons := reasons || jsonb_build_object('factor', 'sentiment', 'points', 5, 'detail', 'positive call');
    ELSIF lower(sentiment) = 'negative' THEN
        score := score - 15;
        reasons := reasons || jsonb_build_object('factor', 'sentiment', 'points', -15, 'detail', 'negative call');
    END IF;
    RETURN jsonb_build_object('score', least(greatest(score, 0), 100), 'reasons', reasons);
END
$$;

-- Name: FUNCTION score_lead(duration_seconds integer, booked boolean, service_value text, transcript text, sentiment text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.score_lead(duration_seconds integer, booked boolean, service_value text, transcript text, sentiment text) IS 'Lead score 0-100 of a call, with the reasons that made it: duration (>= 5 min 60, >= 3 min 45,
>= 1 min 30, shorter 10), booked +20, high-value service +5, asked about price +5, asked about
insurance +5 (words in the transcript), sentiment positive +5 / negative -15.
Returns {"score", "reasons": [{"factor", "points", "detail"}]}. Pure: it reads no table.
Example (the seed''s worked example, 85): SELECT api.score_lead(480, true, ''high'');';

-- Name: send_confirmation_sms(uuid, uuid); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.send_confirmation_sms(appointment_id uuid, org_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
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

-- Name: FUNCTION send_confirmation_sms(appointment_id uuid, org_id uuid); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.send_confirmation_sms(appointment_id uuid, org_id uuid) IS 'Sends nothing itself: reports the appointment''s confirmation SMS in the outbox, and queues one (in
voxbook.sms_outbox) only if every earlier one failed; the SMS worker sends it. The confirmation is already
queued when the appointment is confirmed (same transaction), so a call normally only reports it, idempotently
(the name is the seed''s): {"success", "appointment_id", "message_id", "status" (queued, sending, sent,
delivered, ...), "provider_message_id", "message_sent" (true once the worker has sent it)}. Never a second
confirmation (unique index sms_outbox_one_confirmation).
{"success": false, "code": "cancelled" | "opted_out" | "undelivered", ...} otherwise.
Errors: VB404 unknown org or appointment.';

-- Name: send_otp_code(uuid, uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.send_otp_code(hold_id uuid, org_id uuid, patient_phone text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    phone text := internal.normalize_phone(patient_phone, o.country);
    now_ts timestamptz := internal.clock();
    pepper bytea := internal.code_pepper();
    h voxbook.holds;
    code text;
    salt bytea := gen_random_bytes(16);
    m voxbook.sms_outbox;
    limited jsonb;
BEGIN
    h := internal.lock_hold(o.id, hold_id);
    IF h.status <> 'held' OR h.expires_at <= now_ts THEN
        RETURN internal.refusal('hold_expired', internal.message('refusal.hold_expired', 'en'),
                                jsonb_build_object('hold_id', h.id));
    END IF;
    phone := coalesce(phone, h.patient_phone);
    IF phone IS NULL THEN
        PERFORM internal.fail('VB400', 'no phone number to send the code to',
                              'Pass patient_phone (the caller''s mobile number).');
    END IF;
    IF pepper IS NULL THEN
        RETURN internal.codes_unavailable(h.id);
    END IF;
    -- Calling codes are prefix-free, so a prefix match is a country (or, for longer prefixes, a region) match.
    IF NOT EXISTS (SELECT 1 FROM unnest(coalesce(o.allowed_sms_calling_codes, ARRAY[o.country_code])) AS p
                    WHERE starts_with(phone, '+' || p)) THEN
        RETURN internal.refusal('destination_not_allowed', internal.message('refusal.destination_not_allowed', 'en'),
                                jsonb_build_object('hold_id', h.id));
    END IF;
    IF h.otp_sends >= o.max_code_sends THEN
        RETURN internal.refusal('resend_limit', internal.message('refusal.resend_limit', 'en'),
                                jsonb_build_object('hold_id', h.id, 'sends_left', 0));
    END IF;
    h.patient_phone := phone;   -- the limits count the number the code goes to
    limited := internal.code_rate_limit(o, 'send', phone, h.vapi_call_id, h.id, now_ts);
    IF limited IS NOT NULL THEN
        RETURN limited;
    END IF;

    -- Uniform digits from 8 random bytes (the modulo bias over 2^64 is negligible).
    code := lpad(((('x' || encode(gen_random_bytes(8), 'hex'))::bit(64)::bigint & 9223372036854775807)
                  % (10 ^ o.code_length)::bigint)::text, o.code_length, '0');
    -- A code already on its way is superseded: only the newest one will verify.
    PERFORM internal.cancel_unsent_codes(o.id, h.id, 'superseded by a new code');
    UPDATE voxbook.holds AS x
       SET otp_salt = salt, otp_hash = internal.code_hash(salt, code, pepper),
           otp_sends = x.otp_sends + 1, otp_sent_at = now_ts, patient_phone = phone, updated_at = now_ts
     WHERE x.org_id = h.org_id AND x.id = h.id
    RETURNING x.* INTO h;
    m := internal.queue_sms(o.id, 'otp', phone,
                            -- in the caller's language (the hold's locale; else the clinic's)
                            internal.gsm7(internal.message('sms.otp', coalesce(h.locale, internal.clinic_locale(o.locale)),
                                                           jsonb_build_object(
                               'code', code, 'clinic', o.name,
                               'minutes', ceil(extract(epoch FROM h.expires_at - now_ts) / 60)::int))),
                            hold_id => h.id, expires_at => h.expires_at, redact_after_send => true);
    IF m.status = 'queued' THEN
        PERFORM internal.record_code_event(o.id, 'send', h, now_ts);
        -- Housekeeping: no window looks back further than a day.
        DELETE FROM voxbook.code_events AS e WHERE e.org_id = o.id AND e.kind IN ('send', 'failure')
                                                 AND e.at < now_ts - interval '1 day';
    END IF;
    RETURN jsonb_build_object('success', m.status = 'queued', 'code_sent', m.status = 'queued',
                              'message_id', m.id, 'hold_id', h.id,
                              'expires_at', internal.utc_iso(h.expires_at),
                              'sends_left', o.max_code_sends - h.otp_sends, 'code_length', o.code_length)
           || CASE WHEN m.status = 'queued' THEN '{}'::jsonb
                   ELSE jsonb_build_object('code', 'opted_out',
                                           'error', internal.message('refusal.opted_out', 'en')) END;
END
$$;

-- Name: FUNCTION send_otp_code(hold_id uuid, org_id uuid, patient_phone text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.send_otp_code(hold_id uuid, org_id uuid, patient_phone text) IS 'Issues a new one-time code (the clinic''s code_length digits, default 6) for a live hold and queues it by SMS
(to patient_phone, or the hold''s phone). The code is stored only as HMAC-SHA256 keyed by the voxbook.code_pepper
role setting; an older unsent code is cancelled. Limits: max_code_sends per hold; code_sends_per_phone_hour,
code_sends_per_call and code_sends_per_clinic_hour over sliding windows (an hour; a call); only numbers starting
with one of allowed_sms_calling_codes (default: the clinic''s country_code). The SMS expires with the hold.
Returns {"success": true, "code_sent": true, "message_id", "hold_id", "expires_at", "sends_left", "code_length"} or
{"success": false, "code": "hold_expired" | "resend_limit" | "rate_limited" (with "retry_after_seconds") |
"destination_not_allowed" | "codes_unavailable" (no pepper configured) | "opted_out", "error", ...}.
Errors: VB404 unknown org or hold; VB400 no or malformed phone.
Example: SELECT api.send_otp_code(''<hold_id>'', ''a0000000-0000-0000-0000-000000000001'');';

-- Name: set_call_language(uuid, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.set_call_language(org_id uuid, call_id text, language text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    resolved text;
BEGIN
    PERFORM internal.require(nullif(btrim(call_id), ''), 'call_id');
    PERFORM internal.require(nullif(btrim(language), ''), 'language');
    IF length(language) > 35 THEN
        PERFORM internal.fail('VB400', 'language is too long', 'Pass a language or locale tag such as es or es-MX.');
    END IF;
    resolved := internal.set_call_locale(o, call_id, language, 'detected');
    RETURN jsonb_build_object('success', true, 'call_id', call_id, 'language', language, 'locale', resolved,
                              'supported', split_part(resolved, '-', 1)
                                           = lower(split_part(replace(btrim(language), '_', '-'), '-', 1)));
END
$$;

-- Name: FUNCTION set_call_language(org_id uuid, call_id text, language text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.set_call_language(org_id uuid, call_id text, language text) IS 'Records the caller''s language for a running call (call_id: Vapi''s call.id), as the assistant detected it
(Vapi''s language-changed / language-change-detected message): the call''s spoken lines, the hold it makes (or
holds now) and that booking''s texts -- code, confirmation, reminder, changes -- are then in it. The language is
taken in the clinic''s region (es at an en-US clinic: es-US; at an es-MX clinic: es-MX). A language the clinic
does not offer (organizations.languages) or that has no message catalogue falls back to the clinic''s default.
Returns {"success": true, "call_id", "language": <as given>, "locale": <what the texts will use>,
"supported": <whether the language asked for is the one used>}.
Errors: VB404 unknown org; VB400 call_id or language missing, language over 35 characters.
Example: SELECT api.set_call_language(''a0000000-0000-0000-0000-000000000001'', ''call-123'', ''es'');';

-- Name: set_carrier_account(uuid, text, text, text, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.set_carrier_account(org_id uuid, account_sid text, auth_token_ciphertext text, key_id text, messaging_service_sid text DEFAULT NULL::text, parent_account_sid text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $_$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    sid text := btrim(account_sid);
    service text := nullif(btrim(messaging_service_sid), '');
    parent text := nullif(btrim(parent_account_sid), '');
    cipher text := btrim(auth_token_ciphertext);
    a voxbook.carrier_accounts;
    created boolean;
    now_ts timestamptz := now();
BEGIN
    PERFORM internal.require(sid, 'account_sid');
    PERFORM internal.require(cipher, 'auth_token_ciphertext');
    PERFORM internal.require(key_id, 'key_id');
    -- Never the value in a message: a token pasted into the wrong argument would be logged with it.
    IF sid !~ '^AC[0-9a-f]{32}$' THEN
        PERFORM internal.fail('VB400', 'account_sid is not a Twilio account SID',
                              'An account SID is AC followed by 32 lowercase hex digits (Twilio console, Account Info).');
    END IF;
    IF cipher !~ '^gAAAAA[A-Za-z0-9_=-]+$' OR length(cipher) NOT BETWEEN 100 AND 1000 THEN
        PERFORM internal.fail('VB400', 'auth_token_ciphertext is not an encrypted token',
                              'Pass the Fernet ciphertext made with VOXBOOK_SECRETS_KEY, never the token itself: '
                              'voxbook clinic carrier set --org ... --account-sid ... --auth-token-env VAR does it.');
    END IF;
    IF key_id !~ '^[0-9a-f]{8,64}$' THEN
        PERFORM internal.fail('VB400', 'key_id is not a key id',
                              'Pass the id of the key that made the ciphertext (voxbook.secrets_box.key_id: 12 hex digits).');
    END IF;
    IF service IS NOT NULL AND service !~ '^MG[0-9a-f]{32}$' THEN
        PERFORM internal.fail('VB400', 'messaging_service_sid is not a Messaging Service SID',
                              'A Messaging Service SID is MG followed by 32 lowercase hex digits; pass NULL to send from the clinic''s sms_from.');
    END IF;
    IF parent IS NOT NULL AND (parent !~ '^AC[0-9a-f]{32}$' OR parent = sid) THEN
        PERFORM internal.fail('VB400', 'parent_account_sid is not another account SID',
                              'For a subaccount pass its main account''s SID (AC + 32 hex digits); else NULL.');
    END IF;
    created := NOT EXISTS (SELECT 1 FROM voxbook.carrier_accounts AS x WHERE x.org_id = o.id);
    INSERT INTO voxbook.carrier_accounts AS x (org_id, account_sid, auth_token_ciphertext, key_id,
                                               messaging_service_sid, parent_account_sid, created_at, updated_at)
    VALUES (o.id, sid, cipher, set_carrier_account.key_id, service, parent, now_ts, now_ts)
    ON CONFLICT ON CONSTRAINT carrier_accounts_pkey DO UPDATE
       SET account_sid = excluded.account_sid, auth_token_ciphertext = excluded.auth_token_ciphertext,
           key_id = excluded.key_id, messaging_service_sid = excluded.messaging_service_sid,
           parent_account_sid = excluded.parent_account_sid, updated_at = excluded.updated_at
    RETURNING x.* INTO a;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'created', created, 'account_sid', a.account_sid,
                              'messaging_service_sid', a.messaging_service_sid,
                              'parent_account_sid', a.parent_account_sid, 'key_id', a.key_id,
                              'updated_at', internal.utc_iso(a.updated_at));
END
$_$;

-- Name: FUNCTION set_carrier_account(org_id uuid, account_sid text, auth_token_ciphertext text, key_id text, messaging_service_sid text, parent_account_sid text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.set_carrier_account(org_id uuid, account_sid text, auth_token_ciphertext text, key_id text, messaging_service_sid text, parent_account_sid text) IS 'Gives a clinic its own Twilio account (or subaccount), replacing the one it had: its messages are then
sent through it (its Messaging Service when messaging_service_sid is set, else from the clinic''s sms_from)
and its Twilio callbacks are checked with its token. The token is passed encrypted only
(auth_token_ciphertext: Fernet, made with VOXBOOK_SECRETS_KEY, which the database never sees; key_id names
the key), so use the CLI: voxbook clinic carrier set --org <clinic> --account-sid AC... --auth-token-env VAR.
The worker and the callbacks pick a change up within a minute. Several clinics may share one account.
Returns {"success": true, "org_id", "created" (false: replaced), "account_sid", "messaging_service_sid",
"parent_account_sid", "key_id", "updated_at"} (never the ciphertext).
Errors: VB404 unknown org; VB400 a missing argument, an account_sid that is not AC + 32 hex digits, a
ciphertext that is not a Fernet token (a plaintext token is refused, not stored), a malformed key_id,
messaging_service_sid (MG + 32 hex) or parent_account_sid.
Example: SELECT api.set_carrier_account(''a0000000-0000-0000-0000-000000000001'', ''AC0123...'', ''gAAAAAB...'', ''3f2a9c0d1e4b'');';

-- Name: set_hours_exception(uuid, text, date, jsonb, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.set_hours_exception(org_id uuid, calendar_id text, on_date date, hours jsonb, reason text DEFAULT NULL::text, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    c voxbook.calendars;
    before jsonb;
    after jsonb;
    label text;
    s time;
    t time;
BEGIN
    PERFORM internal.require_date(on_date, 'on_date');
    IF length(reason) > 500 THEN
        PERFORM internal.fail('VB400', 'reason is limited to 500 characters', 'Shorten the reason.');
    END IF;
    c := internal.setup_calendar(o.id, calendar_id, lock => true);
    label := to_char(on_date, 'YYYY-MM-DD');
    before := internal.exceptions_json(o.id, c.id, on_date) -> 0;
    IF before ->> 'on_date' IS DISTINCT FROM label THEN
        before := NULL;
    END IF;
    DELETE FROM voxbook.hours_exceptions AS x WHERE x.org_id = o.id AND x.calendar_id = c.id AND x.on_date = set_hours_exception.on_date;
    IF hours IS NOT NULL THEN
        IF jsonb_typeof(hours) = 'array' AND jsonb_array_length(hours) = 0 THEN
            INSERT INTO voxbook.hours_exceptions (org_id, calendar_id, on_date, reason)
            VALUES (o.id, c.id, on_date, nullif(btrim(reason), ''));
        ELSE
            FOR s, t IN SELECT p.starts, p.ends FROM internal.parse_intervals(label, hours) AS p LOOP
                INSERT INTO voxbook.hours_exceptions (org_id, calendar_id, on_date, starts, ends, reason)
                VALUES (o.id, c.id, on_date, s, t, nullif(btrim(reason), ''));
            END LOOP;
        END IF;
        after := internal.exceptions_json(o.id, c.id, on_date) -> 0;
    END IF;
    PERFORM internal.audit(o.id, changed_by, 'set_hours_exception', 'hours_exception', c.id || ' ' || label, before, after);
    RETURN jsonb_build_object('success', true, 'calendar_id', c.id, 'on_date', label,
                              'exception', after, 'outside_hours', internal.outside_hours(o, c.id));
END
$$;

-- Name: FUNCTION set_hours_exception(org_id uuid, calendar_id text, on_date date, hours jsonb, reason text, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.set_hours_exception(org_id uuid, calendar_id text, on_date date, hours jsonb, reason text, changed_by text) IS 'Sets a provider''s hours on one date, replacing that weekday''s hours then (a Saturday clinic, a short day, a
day off): hours => ''[["10:00", "14:00"]]'' (several intervals allowed, as api.set_working_hours takes a day),
''[]'' = not working that day, NULL = remove the exception (the weekly hours apply again). Local times of the
clinic''s zone. Appointments already booked stay: those no longer covered are listed in "outside_hours".
Recorded in voxbook.audit_log. Race-safe against claims (takes the calendar lock).
Returns {"success": true, "calendar_id", "on_date", "exception": {"on_date", "hours", "reason"} | null (removed),
"outside_hours": [...] (as api.set_working_hours)}.
Errors: VB404 unknown org or calendar; VB400 on_date missing or out of range, a malformed, inverted or
overlapping interval (named), reason over 500 characters.';

-- Name: set_staff_role(uuid, uuid, text, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.set_staff_role(org_id uuid, staff_id uuid, role text, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    r text := internal.staff_role(role);
    s voxbook.staff_accounts;
    before jsonb;
    now_ts timestamptz := internal.clock();   -- a value, not a call in the UPDATE (Citus)
BEGIN
    IF r <> 'owner' THEN
        PERFORM internal.keep_an_owner(o.id, staff_id);
    END IF;
    s := internal.require_staff(o.id, staff_id);
    IF s.status = 'deactivated' THEN
        PERFORM internal.fail('VB409', 'this account is deactivated', 'Invite the person again (api.invite_staff).');
    END IF;
    before := internal.staff_json(s);
    UPDATE voxbook.staff_accounts AS x SET role = r, updated_at = now_ts
     WHERE x.org_id = s.org_id AND x.id = s.id AND x.role <> r
    RETURNING x.* INTO s;
    IF FOUND THEN
        PERFORM internal.audit(o.id, changed_by, 'set_staff_role', 'staff_account', s.id::text, before,
                               internal.staff_json(s));
    END IF;
    RETURN jsonb_build_object('success', true, 'staff', internal.staff_json(s));
END
$$;

-- Name: FUNCTION set_staff_role(org_id uuid, staff_id uuid, role text, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.set_staff_role(org_id uuid, staff_id uuid, role text, changed_by text) IS 'Changes a staff member''s role (owner | front_desk); it applies at their next request. Idempotent.
Returns {"success": true, "staff": {"staff_id", "email", "name", "role", "status", ...}}. Audited.
Errors: VB404 unknown org or staff account (another clinic''s is unknown); VB400 bad role; VB409 the last
active owner demoted, or the account deactivated.
Example: SELECT api.set_staff_role(''a0000000-0000-0000-0000-000000000001'', ''<staff_id>'', ''owner'', ''Olga Owner'');';

-- Name: set_working_hours(uuid, text, jsonb, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.set_working_hours(org_id uuid, calendar_id text, hours jsonb, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    c voxbook.calendars;
    before jsonb;
    after jsonb;
    k text;
    days constant text[] := internal.day_keys();
    day_names constant text[] := ARRAY['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
    dow int;
    seen int[] := '{}';
    s time;
    t time;
BEGIN
    PERFORM internal.require(hours, 'hours');
    IF jsonb_typeof(hours) <> 'object' THEN
        PERFORM internal.fail('VB400', 'hours must be a JSON object of days',
                              'e.g. hours => ''{"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "tue": [["09:00", "17:00"]]}'' (a day left out is closed).');
    END IF;
    c := internal.setup_calendar(o.id, calendar_id, lock => true);
    before := internal.week_json(o.id, c.id);
    DELETE FROM voxbook.working_hours AS x WHERE x.org_id = o.id AND x.calendar_id = c.id;
    FOR k IN SELECT e.key FROM jsonb_each(hours) AS e ORDER BY e.key LOOP
        dow := coalesce(array_position(days, lower(btrim(k))), array_position(day_names, lower(btrim(k))));
        IF dow IS NULL THEN
            PERFORM internal.fail('VB400', format('unknown day %s', k), 'Days are mon, tue, wed, thu, fri, sat, sun.');
        END IF;
        IF dow = ANY (seen) THEN
            PERFORM internal.fail('VB400', format('%s is given twice', days[dow]), 'Give each day once.');
        END IF;
        seen := seen || dow;
        FOR s, t IN SELECT p.starts, p.ends FROM internal.parse_intervals(days[dow], hours -> k) AS p LOOP
            INSERT INTO voxbook.working_hours (org_id, calendar_id, iso_dow, starts, ends) VALUES (o.id, c.id, dow, s, t);
        END LOOP;
    END LOOP;
    after := internal.week_json(o.id, c.id);
    PERFORM internal.audit(o.id, changed_by, 'set_working_hours', 'hours', c.id, before, after);
    RETURN jsonb_build_object('success', true, 'calendar_id', c.id, 'hours', after, 'changed', before <> after,
                              'outside_hours', internal.outside_hours(o, c.id));
END
$$;

-- Name: FUNCTION set_working_hours(org_id uuid, calendar_id text, hours jsonb, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.set_working_hours(org_id uuid, calendar_id text, hours jsonb, changed_by text) IS 'Replaces a provider''s weekly hours, local wall-clock times of the clinic''s zone:
hours => ''{"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "tue": [["09:00", "17:00"]], ...}'' (several
intervals a day, breaks between; a day left out is closed; ''{}'' = no hours; "monday" also works; "24:00" ends
a day). Appointments already booked stay: those the new hours no longer cover are listed in "outside_hours"
for staff to move. Recorded in voxbook.audit_log. Race-safe against claims (takes the calendar lock).
Returns {"success": true, "calendar_id", "hours" (as stored), "changed": true|false, "outside_hours": [{"appointment_id",
"hold_id", "calendar_id", "service", "patient_name", "starts_at", "ends_at", "local_time"}]}.
Errors: VB404 unknown org or calendar; VB400 hours missing or not an object, an unknown day, an interval that is
malformed, ends before it starts or overlaps another (the message names the day).';

-- Name: staff_invite(text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.staff_invite(token text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    f record := internal.find_invite(token, false);
    s voxbook.staff_accounts;
    o voxbook.organizations;
BEGIN
    IF f.refused IS NOT NULL THEN
        RETURN f.refused;
    END IF;
    SELECT * INTO s FROM voxbook.staff_accounts AS x WHERE x.org_id = (f.inv).org_id AND x.id = (f.inv).staff_id;
    SELECT * INTO o FROM voxbook.organizations AS x WHERE x.id = s.org_id;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'clinic', o.name, 'staff_id', s.id,
                              'email', s.email, 'name', s.name, 'role', s.role,
                              'expires_at', internal.utc_iso((f.inv).expires_at));
END
$$;

-- Name: FUNCTION staff_invite(token text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.staff_invite(token text) IS 'What an invite link is for, before the person chooses a password: {"success": true, "org_id", "clinic",
"staff_id", "email", "name", "role", "expires_at"} or {"success": false, "code": "invalid_invite" |
"invite_used" | "invite_expired", "error"}. Reads only.';

-- Name: staff_remove_from_waitlist(uuid, uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.staff_remove_from_waitlist(org_id uuid, waitlist_id uuid, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    before text;
    result jsonb;
BEGIN
    PERFORM internal.require_org(org_id);
    PERFORM internal.require(waitlist_id, 'waitlist_id');
    SELECT w.status INTO before FROM voxbook.waitlist AS w
     WHERE w.org_id = staff_remove_from_waitlist.org_id AND w.id = staff_remove_from_waitlist.waitlist_id FOR UPDATE;
    result := api.remove_from_waitlist(org_id, waitlist_id);   -- VB404 for an unknown entry
    PERFORM internal.audit(org_id, changed_by, 'remove_from_waitlist', 'waitlist', waitlist_id::text,
                           jsonb_build_object('status', before), jsonb_build_object('status', result->>'status'));
    RETURN result;
END
$$;

-- Name: FUNCTION staff_remove_from_waitlist(org_id uuid, waitlist_id uuid, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.staff_remove_from_waitlist(org_id uuid, waitlist_id uuid, changed_by text) IS 'api.remove_from_waitlist by a staff member: the same (status removed, its live offer ends; idempotent), and
audited with changed_by (entity waitlist) when it changed something.
Returns {"success": true, "waitlist_id", "status"}. Errors: VB404 unknown org or entry; VB400 waitlist_id missing.
Example: SELECT api.staff_remove_from_waitlist(:org, ''<waitlist_id>'', changed_by => ''Ana'');';

-- Name: unblock_time(uuid, bigint, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.unblock_time(org_id uuid, block_id bigint, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    b voxbook.blocked_periods;
BEGIN
    PERFORM internal.require(block_id, 'block_id');
    IF EXISTS (SELECT 1 FROM voxbook.blocked_periods AS x
                WHERE x.org_id = o.id AND x.id = unblock_time.block_id AND x.source IS NOT NULL) THEN
        -- Deleting it here would only last until the next sync put it back.
        PERFORM internal.fail('VB409', 'this busy time comes from the provider''s own calendar',
                              'Remove or move the event in that calendar (or mark it free); the sync follows within a minute.');
    END IF;
    DELETE FROM voxbook.blocked_periods AS x WHERE x.org_id = o.id AND x.id = unblock_time.block_id RETURNING x.* INTO b;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown block', 'Use a block_id of this clinic (api.list_blocks).');
    END IF;
    PERFORM internal.audit(o.id, changed_by, 'unblock_time', 'blocked_period', b.id::text,
                           internal.block_json(b, o.time_zone), NULL);
    RETURN jsonb_build_object('success', true, 'removed', internal.block_json(b, o.time_zone));
END
$$;

-- Name: FUNCTION unblock_time(org_id uuid, block_id bigint, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.unblock_time(org_id uuid, block_id bigint, changed_by text) IS 'Removes a block (api.block_time): its time is bookable again. Recorded in voxbook.audit_log.
Returns {"success": true, "removed": <the block, as api.list_blocks>}.
Errors: VB404 unknown org or block (also another clinic''s); VB400 block_id missing; VB409 busy time imported from
the provider''s own calendar (source "caldav": remove it there, the sync follows).';

-- Name: update_clinic(uuid, text, text, text, text, text, text[], text, text, jsonb, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.update_clinic(org_id uuid, name text DEFAULT NULL::text, phone text DEFAULT NULL::text, time_zone text DEFAULT NULL::text, country text DEFAULT NULL::text, locale text DEFAULT NULL::text, languages text[] DEFAULT NULL::text[], hot_lead_phone text DEFAULT NULL::text, sms_from text DEFAULT NULL::text, settings jsonb DEFAULT NULL::jsonb, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $$
DECLARE
    old voxbook.organizations := internal.require_org(org_id);
    o voxbook.organizations;
    before jsonb;
    after jsonb;
BEGIN
    o := internal.apply_clinic(old, name, phone, time_zone, country, locale, languages, hot_lead_phone, sms_from, settings);
    o := internal.store_clinic(o, old);
    -- Only what changed goes into the audit log.
    SELECT jsonb_object_agg(n.key, p.value), jsonb_object_agg(n.key, n.value) INTO before, after
      FROM jsonb_each(internal.clinic_row(o)) AS n JOIN jsonb_each(internal.clinic_row(old)) AS p ON p.key = n.key
     WHERE p.value IS DISTINCT FROM n.value;
    PERFORM internal.audit(o.id, changed_by, 'update_clinic', 'clinic', o.id::text, before, after);
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'changed', coalesce(after, '{}'),
                              'clinic', internal.clinic_json(o));
END
$$;

-- Name: FUNCTION update_clinic(org_id uuid, name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.update_clinic(org_id uuid, name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb, changed_by text) IS 'Changes a clinic: only what is passed changes (NULL = unchanged); arguments as api.create_clinic. To clear
an optional value pass it as JSON null in settings: settings => ''{"hot_lead_alert_phone": null}'' (also sms_from,
help_text, allowed_sms_calling_codes). A new country changes the calling code (stored numbers stay as they
are); a new locale whose language the clinic does not offer adds it to languages; languages must include the
locale''s language. Recorded in voxbook.audit_log (the changed values, before and after).
Returns {"success": true, "org_id", "changed": {column: new value} ({} when nothing changed), "clinic": <api.get_clinic>}.
Errors: VB404 unknown org; VB400 as api.create_clinic; VB409 another clinic has this phone.
Example: SELECT api.update_clinic(:org, settings => ''{"min_notice_minutes": 120, "help_text": null}'', changed_by => ''ana'');';

-- Name: upsert_provider(uuid, text, text, integer, integer, boolean, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.upsert_provider(org_id uuid, calendar_id text, display_name text DEFAULT NULL::text, slot_minutes integer DEFAULT NULL::integer, default_duration_minutes integer DEFAULT NULL::integer, active boolean DEFAULT NULL::boolean, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $_$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    old voxbook.calendars;
    c voxbook.calendars;
    st text; cn text; tn text; col text; msg text;
BEGIN
    PERFORM internal.require(calendar_id, 'calendar_id');
    IF calendar_id !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
        PERFORM internal.fail('VB400', 'malformed calendar_id',
                              'Small letters, digits, - and _, starting with a letter or digit, up to 63: e.g. cal-smith.');
    END IF;
    IF display_name IS NOT NULL AND (btrim(display_name) = '' OR length(display_name) > 200
                                     OR internal.one_line(display_name) IS DISTINCT FROM btrim(display_name)) THEN
        PERFORM internal.fail('VB400', 'display_name must be 1 to 200 characters on one line', 'The name callers hear, e.g. Dr. Smith.');
    END IF;
    -- The exclusive calendar lock: a claim reads this row (slot length, duration, active), and deactivating
    -- (active => false) is deactivate_provider's check against claims. A new id: two creations wait in turn.
    old := internal.lock_calendar_change(o.id, upsert_provider.calendar_id);
    BEGIN
        IF old.id IS NULL THEN
            PERFORM internal.require(display_name, 'display_name');
            INSERT INTO voxbook.calendars AS x (org_id, id, display_name, slot_minutes, default_duration_minutes, active)
            VALUES (o.id, calendar_id, btrim(display_name), coalesce(slot_minutes, 30),
                    coalesce(default_duration_minutes, 30), coalesce(active, true))
            RETURNING x.* INTO c;
        ELSE
            IF active IS FALSE AND old.active THEN
                PERFORM internal.clear_future(o, old, 'refuse', changed_by);
            END IF;
            UPDATE voxbook.calendars AS x
               SET display_name = coalesce(btrim(upsert_provider.display_name), x.display_name),
                   slot_minutes = coalesce(upsert_provider.slot_minutes, x.slot_minutes),
                   default_duration_minutes = coalesce(upsert_provider.default_duration_minutes, x.default_duration_minutes),
                   active = coalesce(upsert_provider.active, x.active)
             WHERE x.org_id = o.id AND x.id = old.id
            RETURNING x.* INTO c;
        END IF;
    EXCEPTION WHEN check_violation THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, cn = CONSTRAINT_NAME, tn = TABLE_NAME, col = COLUMN_NAME, msg = MESSAGE_TEXT;
        PERFORM internal.setup_invalid(st, nullif(cn, ''), nullif(tn, ''), nullif(col, ''), msg);
    END;
    PERFORM internal.audit(o.id, changed_by, 'upsert_provider', 'provider', c.id,
                           CASE WHEN old.id IS NULL THEN NULL ELSE to_jsonb(old) - 'org_id' END, to_jsonb(c) - 'org_id');
    RETURN jsonb_build_object('success', true, 'created', old.id IS NULL,
                              'provider', internal.provider_json(c, (internal.clock() AT TIME ZONE o.time_zone)::date));
END
$_$;

-- Name: FUNCTION upsert_provider(org_id uuid, calendar_id text, display_name text, slot_minutes integer, default_duration_minutes integer, active boolean, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.upsert_provider(org_id uuid, calendar_id text, display_name text, slot_minutes integer, default_duration_minutes integer, active boolean, changed_by text) IS 'Adds a provider (a calendar: calendar_id such as cal-smith, the id every booking function takes) or changes
one: only what is passed changes (NULL = unchanged). A new one needs display_name (the name callers hear);
slot_minutes (5-240, default 30: slots start every slot_minutes from the start of each working interval),
default_duration_minutes (5-480, default 30: a booking without a service), active (default true). It works no
hours until api.set_working_hours. active => false is refused while it has future appointments (as
api.deactivate_provider). Recorded in voxbook.audit_log.
Returns {"success": true, "created": true|false, "provider": {"calendar_id", "display_name", "slot_minutes",
"default_duration_minutes", "active", "hours", "exceptions"}}.
Errors: VB404 unknown org; VB400 malformed calendar_id, display_name missing for a new provider, a value out of
range (the HINT gives the range); VB409 deactivating with future appointments.
Example: SELECT api.upsert_provider(:org, ''cal-smith'', ''Dr. Smith'', slot_minutes => 30);';

-- Name: upsert_service(uuid, text, text, integer, integer, integer, integer, text, text[], boolean, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.upsert_service(org_id uuid, service_id text, name text DEFAULT NULL::text, duration_minutes integer DEFAULT NULL::integer, buffer_before_minutes integer DEFAULT NULL::integer, buffer_after_minutes integer DEFAULT NULL::integer, price_cents integer DEFAULT NULL::integer, value_tier text DEFAULT NULL::text, providers text[] DEFAULT NULL::text[], active boolean DEFAULT NULL::boolean, changed_by text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $_$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    old voxbook.services;
    s voxbook.services;
    before jsonb;
    missing text;
    st text; cn text; tn text; col text; msg text;
BEGIN
    PERFORM internal.require(service_id, 'service_id');
    IF service_id !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
        PERFORM internal.fail('VB400', 'malformed service_id',
                              'Small letters, digits, - and _, starting with a letter or digit, up to 63: e.g. teeth-whitening.');
    END IF;
    IF name IS NOT NULL AND (btrim(name) = '' OR length(name) > 200 OR internal.one_line(name) IS DISTINCT FROM btrim(name)) THEN
        PERFORM internal.fail('VB400', 'name must be 1 to 200 characters on one line', 'The name callers say, e.g. Teeth Whitening.');
    END IF;
    IF providers IS NOT NULL THEN
        SELECT p INTO missing FROM unnest(providers) AS p
         WHERE p IS NULL OR NOT EXISTS (SELECT 1 FROM voxbook.calendars AS x WHERE x.org_id = o.id AND x.id = p)
         LIMIT 1;
        IF FOUND THEN
            PERFORM internal.fail('VB400', format('unknown provider %s', coalesce(missing, 'NULL')),
                                  'providers names calendar ids of this clinic (api.get_clinic); ''{}'' = every active provider.');
        END IF;
    END IF;
    SELECT * INTO old FROM voxbook.services AS x WHERE x.org_id = o.id AND x.id = upsert_service.service_id FOR UPDATE;
    IF old.id IS NOT NULL THEN
        before := internal.service_json(old);
    END IF;
    BEGIN
        IF old.id IS NULL THEN
            PERFORM internal.require(name, 'name');
            PERFORM internal.require(duration_minutes, 'duration_minutes');
            INSERT INTO voxbook.services AS x (org_id, id, name, duration_minutes, buffer_before_minutes,
                                               buffer_after_minutes, price_cents, value_tier, active)
            VALUES (o.id, service_id, btrim(name), duration_minutes, coalesce(buffer_before_minutes, 0),
                    coalesce(buffer_after_minutes, 0), price_cents, coalesce(value_tier, 'standard'), coalesce(active, true))
            RETURNING x.* INTO s;
        ELSE
            UPDATE voxbook.services AS x
               SET name = coalesce(btrim(upsert_service.name), x.name),
                   duration_minutes = coalesce(upsert_service.duration_minutes, x.duration_minutes),
                   buffer_before_minutes = coalesce(upsert_service.buffer_before_minutes, x.buffer_before_minutes),
                   buffer_after_minutes = coalesce(upsert_service.buffer_after_minutes, x.buffer_after_minutes),
                   price_cents = coalesce(upsert_service.price_cents, x.price_cents),
                   value_tier = coalesce(upsert_service.value_tier, x.value_tier),
                   active = coalesce(upsert_service.active, x.active)
             WHERE x.org_id = o.id AND x.id = old.id
            RETURNING x.* INTO s;
        END IF;
    EXCEPTION WHEN check_violation THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, cn = CONSTRAINT_NAME, tn = TABLE_NAME, col = COLUMN_NAME, msg = MESSAGE_TEXT;
        PERFORM internal.setup_invalid(st, nullif(cn, ''), nullif(tn, ''), nullif(col, ''), msg);
    END;
    IF providers IS NOT NULL THEN
        DELETE FROM voxbook.service_providers AS x
         WHERE x.org_id = o.id AND x.service_id = s.id AND NOT x.calendar_id = ANY (providers);
        FOREACH missing IN ARRAY providers LOOP
            INSERT INTO voxbook.service_providers (org_id, service_id, calendar_id) VALUES (o.id, s.id, missing)
            ON CONFLICT DO NOTHING;
        END LOOP;
    END IF;
    PERFORM internal.audit(o.id, changed_by, 'upsert_service', 'service', s.id, before, internal.service_json(s));
    RETURN jsonb_build_object('success', true, 'created', old.id IS NULL, 'service', internal.service_json(s));
END
$_$;

-- Name: FUNCTION upsert_service(org_id uuid, service_id text, name text, duration_minutes integer, buffer_before_minutes integer, buffer_after_minutes integer, price_cents integer, value_tier text, providers text[], active boolean, changed_by text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.upsert_service(org_id uuid, service_id text, name text, duration_minutes integer, buffer_before_minutes integer, buffer_after_minutes integer, price_cents integer, value_tier text, providers text[], active boolean, changed_by text) IS 'Adds a service (service_id such as teeth-whitening: what the booking functions'' service takes, as do its
name) or changes one: only what is passed changes (NULL = unchanged). A new one needs name and duration_minutes
(5-480); buffer_before_minutes / buffer_after_minutes (0-240, default 0: kept free around each booking of it),
price_cents (>= 0, default none), value_tier (low, standard (default), high: lead scoring), providers (calendar
ids offering it: NULL = unchanged, ''{}'' = every active provider), active (default true; an inactive service is
never offered). Recorded in voxbook.audit_log.
Returns {"success": true, "created": true|false, "service": {"service_id", "name", "duration_minutes",
"buffer_before_minutes", "buffer_after_minutes", "price_cents", "value_tier", "active", "providers"}}.
Errors: VB404 unknown org; VB400 malformed service_id, name or duration missing for a new service, a value out
of range (the HINT gives the range), unknown provider (named).
Example: SELECT api.upsert_service(:org, ''cleaning'', ''Cleaning'', 60, buffer_after_minutes => 10, providers => ''{cal-smith}'');';

-- Name: verify_otp(uuid, uuid, text, uuid, text); Type: FUNCTION; Schema: api; Owner: -

CREATE FUNCTION api.verify_otp(hold_id uuid, org_id uuid, code text, contact_id uuid DEFAULT NULL::uuid, service text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'voxbook', 'public', 'pg_temp'
    AS $_$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    pepper bytea := internal.code_pepper();
    h voxbook.holds;
    given text := regexp_replace(coalesce(code, ''), '[\s-]', '', 'g');
    left_ int;
    limited jsonb;
BEGIN
    -- The row lock serialises parallel guesses, so the attempt limit cannot be outrun.
    h := internal.lock_hold(o.id, hold_id);
    -- Every other argument is checked before the code is looked at: a call that fails must not have
    -- tested (or spent) a code.
    IF contact_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM voxbook.contacts AS x
                                               WHERE x.org_id = o.id AND x.id = verify_otp.contact_id) THEN
        PERFORM internal.fail('VB404', 'unknown contact', 'Leave contact_id out to create the contact from the hold''s phone.');
    END IF;
    PERFORM internal.find_service(o.id, service);   -- VB404 for an unknown service
    IF h.status = 'confirmed' AND h.otp_verified_at IS NOT NULL THEN
        RETURN internal.confirm_hold(o.id, h.id, contact_id, service, 'otp', NULL);   -- same appointment again
    END IF;
    IF h.status <> 'held' OR h.expires_at <= now_ts THEN
        RETURN internal.refusal('hold_expired', internal.message('refusal.hold_expired', 'en'),
                                jsonb_build_object('hold_id', h.id, 'retries_left', 0));
    END IF;
    IF h.otp_hash IS NULL THEN
        RETURN internal.refusal('no_code', internal.message('refusal.no_code', 'en'),
                                jsonb_build_object('hold_id', h.id));
    END IF;
    IF pepper IS NULL THEN
        RETURN internal.codes_unavailable(h.id);
    END IF;
    limited := internal.code_rate_limit(o, 'failure', h.patient_phone, h.vapi_call_id, h.id, now_ts);
    IF limited IS NOT NULL THEN
        RETURN limited || jsonb_build_object('retries_left', o.max_code_attempts - h.otp_attempts);
    END IF;
    IF given !~ '^[0-9]{4,8}$' THEN
        -- Not a guess at all (empty, words): tell the caller without spending an attempt.
        RETURN internal.refusal('malformed_code', internal.message('refusal.malformed_code', 'en'),
                                jsonb_build_object('hold_id', h.id,
                                                   'retries_left', o.max_code_attempts - h.otp_attempts));
    END IF;

    IF internal.code_hash(h.otp_salt, given, pepper) = h.otp_hash THEN
        UPDATE voxbook.holds AS x SET otp_verified_at = now_ts, otp_attempts = x.otp_attempts + 1, updated_at = now_ts
         WHERE x.org_id = h.org_id AND x.id = h.id;
        RETURN internal.confirm_hold(o.id, h.id, contact_id, service, 'otp', NULL);
    END IF;

    UPDATE voxbook.holds AS x SET otp_attempts = x.otp_attempts + 1, updated_at = now_ts
     WHERE x.org_id = h.org_id AND x.id = h.id
    RETURNING x.* INTO h;
    PERFORM internal.record_code_event(o.id, 'failure', h, now_ts);
    left_ := greatest(o.max_code_attempts - h.otp_attempts, 0);
    IF left_ = 0 THEN
        -- Out of attempts: the time goes back to everyone else.
        PERFORM api.release_hold(h.id, o.id, 'too many wrong codes');
        RETURN internal.refusal('attempts_exhausted', internal.message('refusal.attempts_exhausted', 'en'),
                                jsonb_build_object('hold_id', h.id, 'retries_left', 0));
    END IF;
    RETURN internal.refusal('wrong_code', internal.message('refusal.wrong_code', 'en'), jsonb_build_object('hold_id', h.id, 'retries_left', left_));
END
$_$;

-- Name: FUNCTION verify_otp(hold_id uuid, org_id uuid, code text, contact_id uuid, service text); Type: COMMENT; Schema: api; Owner: -

COMMENT ON FUNCTION api.verify_otp(hold_id uuid, org_id uuid, code text, contact_id uuid, service text) IS 'Checks the code the caller read back. contact_id and service are checked first (VB404), so a failing call
never tests the code. Right: the hold becomes a confirmed appointment in the same transaction (contact created
or updated with booking_source = ''phone_ai'', confirmation SMS queued, reminder scheduled) and the appointment is
returned (see api.confirm_held_slot); repeating it returns the same appointment. Wrong: {"success": false,
"code": "wrong_code", "error", "retries_left"}; after the clinic''s max_code_attempts (default 3) the hold is
released ("attempts_exhausted"). Wrong codes are also limited over sliding windows (code_failures_per_phone_hour,
code_failures_per_call, code_failures_per_clinic_hour): beyond them "rate_limited" with "retry_after_seconds",
and the code is not checked. Also "hold_expired", "no_code", "malformed_code" (not digits: no attempt spent),
"codes_unavailable" (no pepper configured).
Errors: VB404 unknown org, hold, contact or service.
Example: SELECT api.verify_otp(''<hold_id>'', ''a0000000-0000-0000-0000-000000000001'', ''123456'');';

-- Name: organizations; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.organizations (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    phone voxbook.e164 NOT NULL,
    time_zone text NOT NULL,
    country_code text DEFAULT '1'::text NOT NULL,
    hold_minutes integer DEFAULT 10 NOT NULL,
    code_length integer DEFAULT 6 NOT NULL,
    max_code_attempts integer DEFAULT 3 NOT NULL,
    max_code_sends integer DEFAULT 3 NOT NULL,
    hot_lead_threshold integer DEFAULT 70 NOT NULL,
    hot_lead_alert_phone voxbook.e164,
    sms_from voxbook.e164,
    min_notice_minutes integer DEFAULT 60 NOT NULL,
    booking_horizon_days integer DEFAULT 90 NOT NULL,
    reminder_hours integer DEFAULT 24 NOT NULL,
    help_text text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    code_sends_per_phone_hour integer DEFAULT 5 NOT NULL,
    code_failures_per_phone_hour integer DEFAULT 10 NOT NULL,
    code_sends_per_call integer DEFAULT 5 NOT NULL,
    code_failures_per_call integer DEFAULT 10 NOT NULL,
    code_sends_per_clinic_hour integer DEFAULT 200 NOT NULL,
    code_failures_per_clinic_hour integer DEFAULT 500 NOT NULL,
    allowed_sms_calling_codes text[],
    country text DEFAULT 'US'::text NOT NULL,
    locale text DEFAULT 'en-US'::text NOT NULL,
    languages text[] DEFAULT '{en}'::text[] NOT NULL,
    cancellation_notice_minutes integer DEFAULT 0 NOT NULL,
    front_desk_phone voxbook.e164,
    CONSTRAINT organizations_allowed_sms_calling_codes_check CHECK ((((cardinality(allowed_sms_calling_codes) >= 1) AND (cardinality(allowed_sms_calling_codes) <= 50)) AND (array_to_string(allowed_sms_calling_codes, ','::text, ''::text) ~ '^[1-9][0-9]{0,5}(,[1-9][0-9]{0,5})*$'::text))),
    CONSTRAINT organizations_booking_horizon_days_check CHECK (((booking_horizon_days >= 1) AND (booking_horizon_days <= 730))),
    CONSTRAINT organizations_cancellation_notice_minutes_check CHECK (((cancellation_notice_minutes >= 0) AND (cancellation_notice_minutes <= 10080))),
    CONSTRAINT organizations_code_failures_per_call_check CHECK (((code_failures_per_call >= 1) AND (code_failures_per_call <= 1000))),
    CONSTRAINT organizations_code_failures_per_clinic_hour_check CHECK (((code_failures_per_clinic_hour >= 1) AND (code_failures_per_clinic_hour <= 100000))),
    CONSTRAINT organizations_code_failures_per_phone_hour_check CHECK (((code_failures_per_phone_hour >= 1) AND (code_failures_per_phone_hour <= 1000))),
    CONSTRAINT organizations_code_length_check CHECK (((code_length >= 4) AND (code_length <= 8))),
    CONSTRAINT organizations_code_sends_per_call_check CHECK (((code_sends_per_call >= 1) AND (code_sends_per_call <= 1000))),
    CONSTRAINT organizations_code_sends_per_clinic_hour_check CHECK (((code_sends_per_clinic_hour >= 1) AND (code_sends_per_clinic_hour <= 100000))),
    CONSTRAINT organizations_code_sends_per_phone_hour_check CHECK (((code_sends_per_phone_hour >= 1) AND (code_sends_per_phone_hour <= 1000))),
    CONSTRAINT organizations_country_code_check CHECK ((country_code ~ '^[1-9][0-9]{0,2}$'::text)),
    CONSTRAINT organizations_hold_minutes_check CHECK (((hold_minutes >= 1) AND (hold_minutes <= 60))),
    CONSTRAINT organizations_hot_lead_threshold_check CHECK (((hot_lead_threshold >= 0) AND (hot_lead_threshold <= 100))),
    CONSTRAINT organizations_languages_check CHECK ((array_to_string(languages, ','::text) ~ '^[a-z]{2,3}(,[a-z]{2,3})*$'::text)),
    CONSTRAINT organizations_locale_check CHECK ((locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$'::text)),
    CONSTRAINT organizations_locale_offered CHECK ((split_part(locale, '-'::text, 1) = ANY (languages))),
    CONSTRAINT organizations_max_code_attempts_check CHECK (((max_code_attempts >= 1) AND (max_code_attempts <= 10))),
    CONSTRAINT organizations_max_code_sends_check CHECK (((max_code_sends >= 1) AND (max_code_sends <= 10))),
    CONSTRAINT organizations_min_notice_minutes_check CHECK (((min_notice_minutes >= 0) AND (min_notice_minutes <= 10080))),
    CONSTRAINT organizations_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT organizations_reminder_hours_check CHECK (((reminder_hours >= 1) AND (reminder_hours <= 168)))
);

-- Name: TABLE organizations; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.organizations IS 'Clinics. phone is the number callers dial; the Vapi adapter finds the clinic by it.';

-- Name: COLUMN organizations.country_code; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.organizations.country_code IS 'Calling code of the clinic''s country (1, 44), set with country: the foreign key (country, country_code) makes them agree.';

-- Name: COLUMN organizations.sms_from; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.organizations.sms_from IS 'Sender number for SMS; NULL means the provider default (for example a Twilio Messaging Service).';

-- Name: COLUMN organizations.code_sends_per_phone_hour; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.organizations.code_sends_per_phone_hour IS 'Codes sent to one phone number in any sliding hour (besides max_code_sends per hold).';

-- Name: COLUMN organizations.code_failures_per_phone_hour; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.organizations.code_failures_per_phone_hour IS 'Wrong codes entered for one phone number in any sliding hour; then verification waits (rate_limited).';

-- Name: COLUMN organizations.code_sends_per_call; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.organizations.code_sends_per_call IS 'Codes sent during one call (holds with the same vapi_call_id).';

-- Name: COLUMN organizations.code_failures_per_call; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.organizations.code_failures_per_call IS 'Wrong codes entered during one call.';

-- Name: COLUMN organizations.code_sends_per_clinic_hour; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.organizations.code_sends_per_clinic_hour IS 'Codes the clinic sends in any sliding hour (SMS pumping cap).';

-- Name: COLUMN organizations.code_failures_per_clinic_hour; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.organizations.code_failures_per_clinic_hour IS 'Wrong codes entered across the clinic in any sliding hour.';

-- Name: COLUMN organizations.allowed_sms_calling_codes; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.organizations.allowed_sms_calling_codes IS 'E.164 prefixes without + (calling codes such as 1 or 44, or longer ones) one-time codes may be sent to; NULL = only country_code.';

-- Name: COLUMN organizations.country; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.organizations.country IS 'ISO 3166 alpha-2 country of the clinic (GB, US): national numbers are read by its rules (voxbook.countries). Agrees with country_code (a foreign key on both).';

-- Name: COLUMN organizations.locale; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.organizations.locale IS 'BCP 47 locale of the clinic (en-US, es-MX, en-GB): its default language and how it writes dates and times.';

-- Name: COLUMN organizations.languages; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.organizations.languages IS 'Languages the clinic offers callers (ISO 639 codes, e.g. {en,es}); always includes its locale''s language. A caller in another language gets the clinic''s default.';

-- Name: COLUMN organizations.cancellation_notice_minutes; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.organizations.cancellation_notice_minutes IS 'Callers (voice and SMS) may not cancel or reschedule within this many minutes of the appointment; staff may.';

-- Name: COLUMN organizations.front_desk_phone; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.organizations.front_desk_phone IS 'The front desk (a person): transfers go here; callback requests are texted here (else to hot_lead_alert_phone). NULL: no transfer, callers are offered a callback.';

-- Name: services; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.services (
    org_id uuid NOT NULL,
    id text NOT NULL,
    name text NOT NULL,
    duration_minutes integer NOT NULL,
    price_cents integer,
    value_tier text DEFAULT 'standard'::text NOT NULL,
    buffer_before_minutes integer DEFAULT 0 NOT NULL,
    buffer_after_minutes integer DEFAULT 0 NOT NULL,
    active boolean DEFAULT true NOT NULL,
    CONSTRAINT services_buffer_after_minutes_check CHECK (((buffer_after_minutes >= 0) AND (buffer_after_minutes <= 240))),
    CONSTRAINT services_buffer_before_minutes_check CHECK (((buffer_before_minutes >= 0) AND (buffer_before_minutes <= 240))),
    CONSTRAINT services_duration_minutes_check CHECK (((duration_minutes >= 5) AND (duration_minutes <= 480))),
    CONSTRAINT services_id_check CHECK ((id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'::text)),
    CONSTRAINT services_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT services_price_cents_check CHECK ((price_cents >= 0)),
    CONSTRAINT services_value_tier_check CHECK ((value_tier = ANY (ARRAY['low'::text, 'standard'::text, 'high'::text])))
);

-- Name: COLUMN services.value_tier; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.services.value_tier IS 'Drives lead scoring: a high-value service adds points (api.score_lead).';

-- Name: COLUMN services.buffer_before_minutes; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.services.buffer_before_minutes IS 'Minutes kept free before the appointment (set-up): no other booking of the provider may use them.';

-- Name: COLUMN services.buffer_after_minutes; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.services.buffer_after_minutes IS 'Minutes kept free after the appointment (cleaning): a 60-minute service with 10 after occupies 70.';

-- Name: COLUMN services.active; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.services.active IS 'An inactive service is never offered nor claimable; its past appointments stay.';

-- Name: alternatives(voxbook.organizations, voxbook.services, timestamp with time zone, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.alternatives(o voxbook.organizations, s voxbook.services, lost timestamp with time zone, tag text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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

-- Name: apply_clinic(voxbook.organizations, text, text, text, text, text, text[], text, text, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.apply_clinic(o voxbook.organizations, name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb) RETURNS voxbook.organizations
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
    k text;
    v jsonb;
    lang text;
    n voxbook.countries;
BEGIN
    IF country IS NOT NULL THEN
        SELECT * INTO n FROM voxbook.countries AS x WHERE x.iso_code = upper(btrim(apply_clinic.country));
        IF NOT FOUND THEN
            PERFORM internal.fail('VB400', 'unknown country',
                                  'Give an ISO 3166 alpha-2 country code such as US, GB or MX (voxbook.countries).');
        END IF;
        o.country := n.iso_code;
        o.country_code := n.calling_code;
    END IF;
    IF name IS NOT NULL THEN
        IF btrim(name) = '' OR length(name) > 200 OR internal.one_line(name) IS DISTINCT FROM btrim(name) THEN
            PERFORM internal.fail('VB400', 'name must be 1 to 200 characters on one line', 'Give the clinic''s name as patients know it (it is in every text).');
        END IF;
        o.name := btrim(name);
    END IF;
    IF phone IS NOT NULL THEN
        o.phone := internal.normalize_phone(phone, o.country);
    END IF;
    IF time_zone IS NOT NULL THEN
        o.time_zone := internal.require_time_zone(time_zone);
    END IF;
    IF hot_lead_phone IS NOT NULL THEN
        o.hot_lead_alert_phone := internal.normalize_phone(hot_lead_phone, o.country);
    END IF;
    IF sms_from IS NOT NULL THEN
        o.sms_from := internal.normalize_phone(sms_from, o.country);
    END IF;
    IF settings IS NOT NULL THEN
        IF jsonb_typeof(settings) <> 'object' THEN
            PERFORM internal.fail('VB400', 'settings must be a JSON object',
                                  'e.g. settings => ''{"hold_minutes": 10, "min_notice_minutes": 120}''');
        END IF;
        FOR k, v IN SELECT e.key, e.value FROM jsonb_each(settings) AS e ORDER BY e.key LOOP
            IF NOT k = ANY (internal.clinic_setting_keys()) THEN
                PERFORM internal.fail('VB400', format('unknown setting %s', k),
                                      'Known settings: ' || array_to_string(internal.clinic_setting_keys(), ', ') || '.');
            END IF;
            IF v = 'null'::jsonb AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute AS a
                                              WHERE a.attrelid = 'voxbook.organizations'::regclass AND a.attname = k
                                                AND a.attnotnull) THEN
                PERFORM internal.fail('VB400', format('%s cannot be empty', k),
                                      format('Give a value for %s, or leave it out to keep the current one.', k));
            END IF;
            IF k IN ('hot_lead_alert_phone', 'sms_from', 'front_desk_phone') AND jsonb_typeof(v) = 'string' THEN
                v := to_jsonb(internal.normalize_phone(v #>> '{}', o.country));
            END IF;
            BEGIN
                o := jsonb_populate_record(o, jsonb_build_object(k, v));
            EXCEPTION WHEN data_exception OR check_violation THEN
                PERFORM internal.fail('VB400', format('setting %s has a value of the wrong type', k),
                                      'Numbers for the minutes, counts and thresholds, text for help_text, '
                                      || 'a phone number for hot_lead_alert_phone and sms_from, an array of calling codes '
                                      || 'such as ["1", "44"] for allowed_sms_calling_codes.');
            END;
        END LOOP;
    END IF;
    IF languages IS NOT NULL THEN
        IF cardinality(languages) = 0
           OR EXISTS (SELECT 1 FROM unnest(languages) AS l(x) WHERE x IS NULL OR lower(btrim(x)) !~ '^[a-z]{2,3}$') THEN
            PERFORM internal.fail('VB400', 'languages must be ISO 639 codes',
                                  'e.g. languages => ''{en,es}'' (the first is the clinic''s own unless locale says otherwise).');
        END IF;
        SELECT array_agg(x ORDER BY min_pos) INTO o.languages
          FROM (SELECT lower(btrim(l.x)) AS x, min(l.pos) AS min_pos
                  FROM unnest(languages) WITH ORDINALITY AS l(x, pos) GROUP BY 1) AS d;
    END IF;
    IF locale IS NOT NULL THEN
        SELECT l.locale INTO lang FROM voxbook.locale_formats AS l WHERE lower(l.locale) = lower(replace(btrim(apply_clinic.locale), '_', '-'));
        IF lang IS NULL THEN
            PERFORM internal.fail('VB400', 'unknown locale',
                                  'Give one of: ' || (SELECT string_agg(l.locale, ', ' ORDER BY l.locale) FROM voxbook.locale_formats AS l));
        END IF;
        o.locale := lang;
    END IF;
    IF o.locale IS NOT NULL AND o.languages IS NOT NULL AND NOT split_part(o.locale, '-', 1) = ANY (o.languages) THEN
        IF languages IS NULL THEN   -- a new locale's language is offered too
            o.languages := ARRAY[split_part(o.locale, '-', 1)] || o.languages;
        ELSE
            PERFORM internal.fail('VB400', format('languages must include %s, the language of locale %s',
                                                  split_part(o.locale, '-', 1), o.locale),
                                  'A clinic always offers its own language: add it to languages, or change locale.');
        END IF;
    END IF;
    RETURN o;
END
$_$;

-- Name: appointment_audit(uuid, uuid); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.appointment_audit(org_id uuid, appointment_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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

-- Name: appointment_json(uuid, uuid); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.appointment_json(org_id uuid, appointment_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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

-- Name: appointment_sms(text, uuid, uuid); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.appointment_sms(kind text, org_id uuid, appointment_id uuid) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
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

-- Name: calendars; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.calendars (
    org_id uuid NOT NULL,
    id text NOT NULL,
    display_name text NOT NULL,
    slot_minutes integer DEFAULT 30 NOT NULL,
    default_duration_minutes integer DEFAULT 30 NOT NULL,
    active boolean DEFAULT true NOT NULL,
    CONSTRAINT calendars_default_duration_minutes_check CHECK (((default_duration_minutes >= 5) AND (default_duration_minutes <= 480))),
    CONSTRAINT calendars_display_name_check CHECK (((length(display_name) >= 1) AND (length(display_name) <= 200))),
    CONSTRAINT calendars_id_check CHECK ((id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'::text)),
    CONSTRAINT calendars_slot_minutes_check CHECK (((slot_minutes >= 5) AND (slot_minutes <= 240)))
);

-- Name: TABLE calendars; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.calendars IS 'Providers (Dr. Smith). Slots start every slot_minutes from the start of each working interval.';

-- Name: assert_bookable(voxbook.organizations, voxbook.calendars, timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.assert_bookable(o voxbook.organizations, c voxbook.calendars, starts_at timestamp with time zone, ends_at timestamp with time zone) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    now_ts    timestamptz := internal.clock();
    local_s   timestamp := starts_at AT TIME ZONE o.time_zone;
    interval_start time;
    hint      text := 'Offer a time returned by api.check_availability.';
BEGIN
    IF EXISTS (SELECT 1 FROM internal.slot_starts(o, ARRAY[c.id], ARRAY[c.slot_minutes], ARRAY[ends_at - starts_at],
                                                  local_s::date, local_s::date, at_instant => starts_at)) THEN
        RETURN;
    END IF;
    -- Refused. The decision is made above; what follows only finds the words for it.
    IF starts_at < now_ts THEN
        PERFORM internal.fail('VB400', 'slot is in the past', hint);
    END IF;
    IF starts_at < now_ts + make_interval(mins => o.min_notice_minutes) THEN
        PERFORM internal.fail('VB400', format('slot is too soon: bookings need %s minutes notice', o.min_notice_minutes), hint);
    END IF;
    IF starts_at > now_ts + make_interval(days => o.booking_horizon_days) THEN
        PERFORM internal.fail('VB400', format('slot is too far ahead: bookings open %s days in advance', o.booking_horizon_days), hint);
    END IF;
    SELECT x.starts INTO interval_start FROM internal.day_hours(o.id, c.id, local_s::date) AS x
     WHERE local_s::time >= x.starts AND local_s::time < x.ends;
    IF interval_start IS NOT NULL
       AND (extract(epoch FROM local_s::time - interval_start)::bigint % (c.slot_minutes * 60)) <> 0 THEN
        PERFORM internal.fail('VB400', format('slot is not on the %s-minute grid of %s', c.slot_minutes, c.display_name), hint);
    END IF;
    IF interval_start IS NOT NULL
       AND EXISTS (SELECT 1 FROM voxbook.blocked_periods AS b
                    WHERE b.org_id = o.id AND b.calendar_id IS NULL
                      AND b.during && tstzrange(starts_at, ends_at, '[)')) THEN
        PERFORM internal.fail('VB400', 'the clinic is closed then', hint);
    END IF;
    IF interval_start IS NOT NULL
       AND EXISTS (SELECT 1 FROM voxbook.blocked_periods AS b
                    WHERE b.org_id = o.id AND b.calendar_id = c.id
                      AND b.during && tstzrange(starts_at, ends_at, '[)')) THEN
        PERFORM internal.fail('VB400', format('%s is not available then', c.display_name), hint);
    END IF;
    PERFORM internal.fail('VB400', format('slot is outside %s''s working hours', c.display_name), hint);
END
$$;

-- Name: appointments; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.appointments (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    hold_id uuid NOT NULL,
    contact_id uuid NOT NULL,
    service_id text,
    vapi_call_id text,
    status text DEFAULT 'confirmed'::text NOT NULL,
    confirmed_via text NOT NULL,
    confirmed_by text,
    otp_verified boolean DEFAULT false NOT NULL,
    otp_verified_at timestamp with time zone,
    cancelled_at timestamp with time zone,
    cancel_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    locale text,
    cancelled_by text,
    booked_by text,
    patient_name text,
    patient_confirmed_at timestamp with time zone,
    may_not_come_at timestamp with time zone,
    attendance text,
    attendance_at timestamp with time zone,
    attendance_by text,
    CONSTRAINT appointments_attendance_by_check CHECK (((length(attendance_by) >= 1) AND (length(attendance_by) <= 200))),
    CONSTRAINT appointments_attendance_check CHECK ((attendance = ANY (ARRAY['arrived'::text, 'no_show'::text]))),
    CONSTRAINT appointments_attendance_marked CHECK (((attendance IS NULL) = (attendance_at IS NULL))),
    CONSTRAINT appointments_booked_by_check CHECK ((length(booked_by) <= 200)),
    CONSTRAINT appointments_cancelled_by_check CHECK ((length(cancelled_by) <= 200)),
    CONSTRAINT appointments_check CHECK ((otp_verified = (otp_verified_at IS NOT NULL))),
    CONSTRAINT appointments_check1 CHECK (
CASE confirmed_via
    WHEN 'otp'::text THEN otp_verified
    ELSE (confirmed_by IS NOT NULL)
END),
    CONSTRAINT appointments_check2 CHECK (((status = 'cancelled'::text) = (cancelled_at IS NOT NULL))),
    CONSTRAINT appointments_confirmed_via_check CHECK ((confirmed_via = ANY (ARRAY['otp'::text, 'staff'::text, 'waitlist'::text]))),
    CONSTRAINT appointments_locale_check CHECK ((locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$'::text)),
    CONSTRAINT appointments_patient_name_check CHECK ((length(patient_name) <= 200)),
    CONSTRAINT appointments_status_check CHECK ((status = ANY (ARRAY['confirmed'::text, 'cancelled'::text])))
);

-- Name: TABLE appointments; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.appointments IS 'Confirmed bookings. The time is that of the hold (hold_id); a reschedule points hold_id at a new hold.';

-- Name: COLUMN appointments.vapi_call_id; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.appointments.vapi_call_id IS 'Vapi''s call.id of the call that booked it (NULL: booked without a call).';

-- Name: COLUMN appointments.confirmed_via; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.appointments.confirmed_via IS 'How the patient was verified: otp (a code texted to the number), staff (confirmed_by: who), waitlist (a reply from the number a waitlist offer was texted to; confirmed_by: "sms reply <MessageSid>").';

-- Name: COLUMN appointments.locale; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.appointments.locale IS 'The locale of every text of the appointment (confirmation, reminder, reschedule, cancellation), from its hold; NULL = the clinic''s.';

-- Name: COLUMN appointments.cancelled_by; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.appointments.cancelled_by IS 'The staff member who cancelled it; NULL = the caller (or not cancelled).';

-- Name: COLUMN appointments.booked_by; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.appointments.booked_by IS 'The staff member who booked it for the patient; NULL = the caller.';

-- Name: COLUMN appointments.patient_name; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.appointments.patient_name IS 'The person the appointment is for, as booked (several people may share one contact, a phone number).';

-- Name: COLUMN appointments.patient_confirmed_at; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.appointments.patient_confirmed_at IS 'When the patient confirmed by SMS (replied C) that they will come; NULL: not confirmed by the patient.';

-- Name: COLUMN appointments.may_not_come_at; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.appointments.may_not_come_at IS 'When the patient texted CANCEL (a carrier opt-out word: they get no texts any more) while this was their next appointment: they may not come. NULL: no such sign.';

-- Name: COLUMN appointments.attendance; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.appointments.attendance IS 'Marked by the front desk (api.mark_attendance): arrived | no_show; NULL = not marked. attendance_at/_by: when and who.';

-- Name: attendance_json(voxbook.appointments); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.attendance_json(a voxbook.appointments) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT jsonb_build_object('attendance', a.attendance, 'attendance_at', internal.utc_iso(a.attendance_at),
                              'attendance_by', a.attendance_by)
$$;

-- Name: audit(uuid, text, text, text, text, jsonb, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.audit(org_id uuid, changed_by text, action text, entity text, entity_id text, before jsonb, after jsonb) RETURNS uuid
    LANGUAGE plpgsql
    AS $$
DECLARE
    new_id uuid;
    now_ts timestamptz := internal.clock();   -- values, not calls in the INSERT (Citus)
    who text := internal.changed_by(changed_by);
BEGIN
    IF before IS NOT DISTINCT FROM after THEN
        RETURN NULL;
    END IF;
    INSERT INTO voxbook.audit_log AS a (org_id, at, changed_by, action, entity, entity_id, before, after)
    VALUES (audit.org_id, now_ts, who, audit.action, audit.entity,
            audit.entity_id, audit.before, audit.after)
    RETURNING a.id INTO new_id;
    RETURN new_id;
END
$$;

-- Name: audit_name(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.audit_name(who text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $_$
    SELECT CASE WHEN length(v) <= 200 THEN v
                WHEN address IS NULL THEN left(v, 200)
                WHEN length(address) <= 196 THEN left(v, 197 - length(address)) || ' <' || address || '>'
                ELSE left(address, 200) END
      FROM (SELECT internal.one_line(who) AS v) AS n,
           LATERAL (SELECT substring(n.v FROM ' <([^<>]*)>$') AS address) AS a
$_$;

-- Name: blocked_periods; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.blocked_periods (
    id bigint NOT NULL,
    org_id uuid NOT NULL,
    calendar_id text,
    during tstzrange NOT NULL,
    reason text,
    created_by text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    source text,
    connection_id uuid,
    event_uid text,
    event_recurrence_id text,
    event_href text,
    event_etag text,
    CONSTRAINT blocked_periods_caldav_source CHECK (((source IS NULL) = (connection_id IS NULL))),
    CONSTRAINT blocked_periods_created_by_check CHECK ((length(created_by) <= 200)),
    CONSTRAINT blocked_periods_during_check CHECK (((NOT isempty(during)) AND (NOT lower_inf(during)) AND (NOT upper_inf(during)))),
    CONSTRAINT blocked_periods_event_etag_check CHECK ((length(event_etag) <= 500)),
    CONSTRAINT blocked_periods_event_href_check CHECK ((length(event_href) <= 2500)),
    CONSTRAINT blocked_periods_event_recurrence_id_check CHECK ((length(event_recurrence_id) <= 100)),
    CONSTRAINT blocked_periods_event_uid_check CHECK ((length(event_uid) <= 1000)),
    CONSTRAINT blocked_periods_source_check CHECK ((source = 'caldav'::text))
);

-- Name: TABLE blocked_periods; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.blocked_periods IS 'Vacations, training days, holidays: no slot overlapping one is offered or claimable. calendar_id NULL = the whole clinic is closed. Set with api.block_time / api.unblock_time.';

-- Name: COLUMN blocked_periods.calendar_id; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.blocked_periods.calendar_id IS 'The provider whose time is blocked; NULL = every provider (the clinic is closed).';

-- Name: COLUMN blocked_periods.source; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.blocked_periods.source IS 'NULL: made by staff (api.block_time); caldav: busy time imported from the provider''s calendar (connection_id).';

-- Name: COLUMN blocked_periods.event_recurrence_id; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.blocked_periods.event_recurrence_id IS 'The occurrence of a recurring event (its start, UTC) this row is; NULL for a single event.';

-- Name: block_json(voxbook.blocked_periods, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.block_json(b voxbook.blocked_periods, tz text) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object('block_id', b.id, 'calendar_id', b.calendar_id,
                              'starts_at', internal.utc_iso(lower(b.during)), 'ends_at', internal.utc_iso(upper(b.during)),
                              'local_starts', internal.local_text(lower(b.during), tz),
                              'local_ends', internal.local_text(upper(b.during), tz),
                              'reason', b.reason, 'created_by', b.created_by, 'source', b.source)
$$;

-- Name: holds; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.holds (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    calendar_id text NOT NULL,
    service_id text,
    starts_at timestamp with time zone NOT NULL,
    ends_at timestamp with time zone NOT NULL,
    vapi_call_id text,
    patient_name text,
    patient_phone voxbook.e164,
    status text DEFAULT 'held'::text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    otp_hash bytea,
    otp_salt bytea,
    otp_attempts integer DEFAULT 0 NOT NULL,
    otp_sends integer DEFAULT 0 NOT NULL,
    otp_sent_at timestamp with time zone,
    otp_verified_at timestamp with time zone,
    release_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    locale text,
    occupies tstzrange,
    CONSTRAINT holds_check CHECK ((starts_at < ends_at)),
    CONSTRAINT holds_check1 CHECK (((otp_hash IS NULL) = (otp_salt IS NULL))),
    CONSTRAINT holds_locale_check CHECK ((locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$'::text)),
    CONSTRAINT holds_occupies_covers CHECK (((occupies IS NULL) OR ((occupies @> tstzrange(starts_at, ends_at, '[)'::text)) AND (NOT lower_inf(occupies)) AND (NOT upper_inf(occupies))))),
    CONSTRAINT holds_status_check CHECK ((status = ANY (ARRAY['held'::text, 'confirmed'::text, 'released'::text, 'expired'::text, 'cancelled'::text, 'rescheduled'::text])))
)
WITH (autovacuum_vacuum_scale_factor='0.02', autovacuum_vacuum_threshold='200', autovacuum_analyze_scale_factor='0.02', autovacuum_analyze_threshold='200');

-- Name: TABLE holds; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.holds IS 'Claims on calendar time. status held = live hold until expires_at; confirmed = an appointment''s time. holds_no_overlap forbids two active claims whose occupied time (buffers included) overlaps on one calendar (calendars compared by hashtextextended(calendar_id, 0): a bigint key, 0033).';

-- Name: COLUMN holds.vapi_call_id; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.holds.vapi_call_id IS 'Vapi''s call.id of the call that made the hold (NULL: made without a call).';

-- Name: COLUMN holds.otp_hash; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.holds.otp_hash IS 'HMAC-SHA256 of otp_salt || code keyed by the voxbook.code_pepper role setting; never the plain code.';

-- Name: COLUMN holds.locale; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.holds.locale IS 'The caller''s locale when the hold was made (its code SMS, and the appointment''s texts); NULL = the clinic''s.';

-- Name: COLUMN holds.occupies; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.holds.occupies IS 'The time this claim keeps from other claims of its calendar: [starts_at - buffer before, ends_at + buffer after) of its service. NULL = [starts_at, ends_at). holds_no_overlap is on this range.';

-- Name: booking_json(voxbook.holds, uuid, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.booking_json(h voxbook.holds, appointment_id uuid, patient_name text, tz text) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object('appointment_id', appointment_id, 'hold_id', h.id, 'status', h.status,
                              'calendar_id', h.calendar_id, 'service', h.service_id, 'patient_name', patient_name,
                              'starts_at', internal.utc_iso(h.starts_at), 'ends_at', internal.utc_iso(h.ends_at),
                              'local_time', internal.local_text(h.starts_at, tz))
$$;

-- Name: bookings_detail(jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.bookings_detail(bookings jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN jsonb_typeof(bookings) = 'array'
                THEN (SELECT coalesce(jsonb_agg(e - 'patient_name'), '[]') FROM jsonb_array_elements(bookings) AS e)
                ELSE jsonb_build_object(
                         'appointments', (SELECT coalesce(jsonb_agg(e - 'patient_name'), '[]') FROM jsonb_array_elements(bookings -> 'appointments') AS e),
                         'holds', (SELECT coalesce(jsonb_agg(e - 'patient_name'), '[]') FROM jsonb_array_elements(bookings -> 'holds') AS e))
           END::text
$$;

-- Name: bookings_during(voxbook.organizations, text, tstzrange); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.bookings_during(o voxbook.organizations, calendar_id text, during tstzrange) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    now_ts timestamptz := internal.clock();
    appts jsonb := '[]';
    holds jsonb := '[]';
    r record;
    h voxbook.holds;
BEGIN
    FOR r IN
        SELECT x AS h, a.id AS appointment_id, coalesce(a.patient_name, ct.name, x.patient_name) AS patient
          FROM voxbook.holds AS x
          LEFT JOIN voxbook.appointments AS a ON a.org_id = x.org_id AND a.hold_id = x.id AND a.status = 'confirmed'
          LEFT JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
         WHERE x.org_id = o.id AND (bookings_during.calendar_id IS NULL OR x.calendar_id = bookings_during.calendar_id)
           AND (x.status = 'confirmed' OR x.status = 'held' AND x.expires_at > now_ts)
           AND tstzrange(x.starts_at, x.ends_at, '[)') && during
         ORDER BY x.starts_at, x.calendar_id, x.id
    LOOP
        h := r.h;
        IF h.status = 'confirmed' THEN
            appts := appts || jsonb_build_array(internal.booking_json(h, r.appointment_id, r.patient, o.time_zone));
        ELSE
            holds := holds || jsonb_build_array(internal.booking_json(h, NULL, r.patient, o.time_zone));
        END IF;
    END LOOP;
    RETURN jsonb_build_object('appointments', appts, 'holds', holds);
END
$$;

-- Name: bookings_phrase(jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.bookings_phrase(bookings jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT concat_ws('; ',
        CASE WHEN jsonb_array_length(bookings -> 'appointments') > 0 THEN
            format('%s appointment%s: %s%s', jsonb_array_length(bookings -> 'appointments'),
                   CASE WHEN jsonb_array_length(bookings -> 'appointments') > 1 THEN 's' ELSE '' END,
                   (SELECT string_agg(e ->> 'local_time', ', ' ORDER BY n)
                      FROM jsonb_array_elements(bookings -> 'appointments') WITH ORDINALITY AS t(e, n) WHERE n <= 3),
                   CASE WHEN jsonb_array_length(bookings -> 'appointments') > 3 THEN ', ...' ELSE '' END) END,
        CASE WHEN jsonb_array_length(bookings -> 'holds') > 0 THEN
            format('%s caller%s holding a time now', jsonb_array_length(bookings -> 'holds'),
                   CASE WHEN jsonb_array_length(bookings -> 'holds') > 1 THEN 's' ELSE '' END) END)
$$;

-- Name: calendar_connections; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.calendar_connections (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    calendar_id text NOT NULL,
    url text NOT NULL,
    username text NOT NULL,
    secret_ciphertext text NOT NULL,
    key_id text NOT NULL,
    event_title text DEFAULT '{service}'::text NOT NULL,
    patient_name text DEFAULT 'none'::text NOT NULL,
    sync_token text,
    ctag text,
    expanded_until timestamp with time zone,
    last_full_sync_at timestamp with time zone,
    last_attempt_at timestamp with time zone,
    last_success_at timestamp with time zone,
    last_error_class text,
    last_error text,
    consecutive_failures integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    locked_by text,
    lease_until timestamp with time zone,
    events_pushed bigint DEFAULT 0 NOT NULL,
    busy_imported integer DEFAULT 0 NOT NULL,
    connected_by text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT calendar_connections_connected_by_check CHECK ((length(connected_by) <= 200)),
    CONSTRAINT calendar_connections_consecutive_failures_check CHECK ((consecutive_failures >= 0)),
    CONSTRAINT calendar_connections_ctag_check CHECK ((length(ctag) <= 1000)),
    CONSTRAINT calendar_connections_event_title_check CHECK (((length(event_title) >= 1) AND (length(event_title) <= 200))),
    CONSTRAINT calendar_connections_key_id_check CHECK ((key_id ~ '^[0-9a-f]{8,64}$'::text)),
    CONSTRAINT calendar_connections_last_error_check CHECK ((length(last_error) <= 500)),
    CONSTRAINT calendar_connections_last_error_class_check CHECK ((last_error_class = ANY (ARRAY['bad_credentials'::text, 'not_a_calendar'::text, 'no_write_permission'::text, 'unreachable'::text, 'server_error'::text, 'secrets_key'::text, 'invalid_data'::text]))),
    CONSTRAINT calendar_connections_locked_by_check CHECK ((length(locked_by) <= 200)),
    CONSTRAINT calendar_connections_patient_name_check CHECK ((patient_name = ANY (ARRAY['none'::text, 'first'::text, 'full'::text]))),
    CONSTRAINT calendar_connections_secret_ciphertext_check CHECK (((secret_ciphertext ~ '^gAAAAA[A-Za-z0-9_=-]+$'::text) AND ((length(secret_ciphertext) >= 100) AND (length(secret_ciphertext) <= 20000)))),
    CONSTRAINT calendar_connections_sync_token_check CHECK ((length(sync_token) <= 4000)),
    CONSTRAINT calendar_connections_url_check CHECK (((url ~ '^https?://[^\s]+$'::text) AND (length(url) <= 2000))),
    CONSTRAINT calendar_connections_username_check CHECK (((length(username) >= 1) AND (length(username) <= 320)))
);

-- Name: TABLE calendar_connections; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.calendar_connections IS 'A provider''s external CalDAV calendar, synced both ways by the calendar sync worker (workers/calendar_sync.py): confirmed appointments become events there (calendar_pushes), busy time there becomes blocked_periods here. Set with api.connect_calendar; health in api.list_calendar_connections.';

-- Name: COLUMN calendar_connections.secret_ciphertext; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.calendar_connections.secret_ciphertext IS 'Fernet ciphertext of the CalDAV password or app password under VOXBOOK_SECRETS_KEY (outside the database).';

-- Name: COLUMN calendar_connections.event_title; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.calendar_connections.event_title IS 'Title of the events pushed there: {service}, {provider} and {patient} (the patient_name policy) are filled in.';

-- Name: COLUMN calendar_connections.patient_name; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.calendar_connections.patient_name IS 'How much of the patient''s name the pushed events show: none, first (first name) or full. Never the phone.';

-- Name: COLUMN calendar_connections.sync_token; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.calendar_connections.sync_token IS 'The server''s sync-token (RFC 6578), or the caldav library''s digest of the ETags (fake-...) where the server has none.';

-- Name: COLUMN calendar_connections.expanded_until; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.calendar_connections.expanded_until IS 'Recurring events are expanded up to this instant; a full read expands them again as time passes.';

-- Name: calendar_claim_json(voxbook.calendar_connections, voxbook.organizations, voxbook.calendars, timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.calendar_claim_json(cc voxbook.calendar_connections, o voxbook.organizations, c voxbook.calendars, lease timestamp with time zone, now_ts timestamp with time zone) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN jsonb_build_object(
        'org_id', cc.org_id, 'connection_id', cc.id, 'calendar_id', cc.calendar_id, 'provider', c.display_name,
        'url', cc.url, 'username', cc.username, 'secret_ciphertext', cc.secret_ciphertext, 'key_id', cc.key_id,
        'sync_token', cc.sync_token, 'ctag', cc.ctag, 'time_zone', o.time_zone,
        -- How far ahead busy time matters: the clinic's booking horizon, and a day either side.
        'window_starts', internal.utc_iso(now_ts - interval '1 day'),
        'window_ends', internal.utc_iso(now_ts + make_interval(days => o.booking_horizon_days + 1)),
        -- Read everything again (recurring events expanded further) once a day and on the first sync.
        'full', cc.sync_token IS NULL OR cc.last_full_sync_at IS NULL OR cc.last_full_sync_at < now_ts - interval '1 day',
        'lease_until', internal.utc_iso(lease));
END
$$;

-- Name: calendar_connection_json(voxbook.calendar_connections, text, timestamp with time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.calendar_connection_json(cc voxbook.calendar_connections, tz text, now_ts timestamp with time zone) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN jsonb_build_object(
        'connection_id', cc.id, 'calendar_id', cc.calendar_id, 'url', cc.url, 'username', cc.username,
        'key_id', cc.key_id, 'event_title', cc.event_title, 'patient_name', cc.patient_name,
        'healthy', cc.consecutive_failures = 0 AND cc.last_success_at IS NOT NULL,
        'state', CASE WHEN cc.consecutive_failures > 0 THEN 'failing'
                      WHEN cc.last_success_at IS NULL THEN 'pending' ELSE 'ok' END,
        'last_success_at', internal.utc_iso(cc.last_success_at),
        'last_attempt_at', internal.utc_iso(cc.last_attempt_at),
        'last_error_class', cc.last_error_class, 'last_error', cc.last_error,
        'consecutive_failures', cc.consecutive_failures,
        'next_attempt_at', internal.utc_iso(greatest(cc.next_attempt_at, now_ts)),
        'incremental', CASE WHEN cc.sync_token IS NULL THEN NULL ELSE cc.sync_token NOT LIKE 'fake-%' END,
        'events_pushed', cc.events_pushed, 'busy_imported', cc.busy_imported,
        'connected_by', cc.connected_by, 'connected_at', internal.utc_iso(cc.created_at),
        'local_last_success', CASE WHEN cc.last_success_at IS NOT NULL THEN internal.local_text(cc.last_success_at, tz) END);
END
$$;

-- Name: calendar_event_title(text, text, text, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.calendar_event_title(template text, policy text, service_name text, provider_name text, patient text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $_$
    SELECT left(coalesce(nullif(btrim(regexp_replace(
               replace(replace(replace(template, '{service}', coalesce(service_name, 'Appointment')),
                               '{provider}', coalesce(provider_name, '')),
                       '{patient}', coalesce(CASE WHEN policy = 'full' THEN internal.one_line(patient)
                                                  WHEN policy = 'first' THEN split_part(internal.one_line(patient), ' ', 1)
                                             END, '')),
               '[\s:,;(–—-]+$|^[\s:,;)–—-]+', '', 'g')), ''), 'Appointment'), 400)
$_$;

-- Name: calendar_lock_key(uuid, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.calendar_lock_key(org_id uuid, calendar_id text) RETURNS bigint
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT hashtextextended('voxbook:calendar:' || org_id::text || '/' || calendar_id, 0) $$;

-- Name: call_field_limits(); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.call_field_limits() RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT '{"transcript": 1000000, "summary": 20000, "customer_name": 200, "ended_reason": 200,
             "success_evaluation": 200, "provider_call_sid": 200, "alert_name": 60}'::jsonb
$$;

-- Name: calls; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.calls (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    vapi_call_id text NOT NULL,
    provider_call_sid text,
    customer_phone voxbook.e164,
    customer_name text,
    started_at timestamp with time zone,
    ended_at timestamp with time zone,
    duration_seconds integer,
    ended_reason text,
    transcript text,
    summary text,
    structured_data jsonb DEFAULT '{}'::jsonb NOT NULL,
    success_evaluation text,
    appointment_id uuid,
    service_id text,
    lead_score integer,
    score_reasons jsonb DEFAULT '[]'::jsonb NOT NULL,
    is_hot boolean DEFAULT false NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT calls_duration_seconds_check CHECK ((duration_seconds >= 0)),
    CONSTRAINT calls_lead_score_check CHECK (((lead_score >= 0) AND (lead_score <= 100))),
    CONSTRAINT calls_vapi_call_id_check CHECK (((length(vapi_call_id) >= 1) AND (length(vapi_call_id) <= 200)))
);

-- Name: TABLE calls; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.calls IS 'One row per Vapi call, written once from its end-of-call-report, with its lead score.';

-- Name: call_json(voxbook.calls); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.call_json(c voxbook.calls) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object('success', true, 'call_id', c.id, 'vapi_call_id', c.vapi_call_id,
                              'score', c.lead_score, 'reasons', c.score_reasons, 'hot', c.is_hot,
                              'booked', c.appointment_id IS NOT NULL, 'appointment_id', c.appointment_id,
                              'duration_seconds', c.duration_seconds)
$$;

-- Name: call_locale(voxbook.organizations, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.call_locale(o voxbook.organizations, vapi_call_id text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    found_locale text;
BEGIN
    IF vapi_call_id IS NOT NULL THEN
        SELECT c.locale INTO found_locale FROM voxbook.call_locales AS c
         WHERE c.org_id = o.id AND c.vapi_call_id = internal.vapi_call_key(call_locale.vapi_call_id);
    END IF;
    RETURN coalesce(found_locale, internal.clinic_locale(o.locale));
END
$$;

-- Name: callback_for_refusal(voxbook.organizations, text, jsonb, jsonb, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.callback_for_refusal(o voxbook.organizations, function_name text, args jsonb, result jsonb, call_id text) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
DECLARE
    code constant text := result->>'code';
    uuid_re constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
    named_appt constant text := coalesce(nullif(args->>'appointment_id', ''), result->>'appointment_id');
    h voxbook.holds;
    appt_id uuid;
    hold_key uuid;
    who text;
    number text;
BEGIN
    IF coalesce((result->>'success')::boolean, false)
       OR NOT (code IN ('rate_limited', 'codes_unavailable', 'within_notice')
               OR (function_name = 'send_otp_code' AND code IN ('resend_limit', 'opted_out'))) THEN
        RETURN NULL;
    END IF;
    IF coalesce(named_appt, '') ~* uuid_re THEN
        SELECT a.id, a.hold_id, coalesce(a.patient_name, ct.name), ct.phone::text INTO appt_id, hold_key, who, number
          FROM voxbook.appointments AS a
          LEFT JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
         WHERE a.org_id = o.id AND a.id = named_appt::uuid;
    ELSIF coalesce(args->>'hold_id', '') ~* uuid_re THEN
        hold_key := (args->>'hold_id')::uuid;
    END IF;
    IF hold_key IS NOT NULL THEN
        SELECT * INTO h FROM voxbook.holds AS x WHERE x.org_id = o.id AND x.id = hold_key;
    END IF;
    RETURN internal.request_callback(o.id, 'failure',
                                     format('%s: %s', function_name, coalesce(nullif(result->>'error', ''), code)),
                                     coalesce(number, h.patient_phone::text, args->>'caller_phone'),
                                     coalesce(who, h.patient_name),
                                     coalesce(nullif(btrim(call_id), ''), args->>'call_id'), appt_id);
END
$_$;

-- Name: callback_requests; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.callback_requests (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    vapi_call_id text,
    phone voxbook.e164,
    name text,
    reason text NOT NULL,
    kind text NOT NULL,
    status text DEFAULT 'open'::text NOT NULL,
    appointment_id uuid,
    sms_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    done_at timestamp with time zone,
    done_by text,
    note text,
    CONSTRAINT callback_requests_check CHECK (((status = 'done'::text) = (done_at IS NOT NULL))),
    CONSTRAINT callback_requests_check1 CHECK (((status = 'open'::text) OR (done_by IS NOT NULL))),
    CONSTRAINT callback_requests_done_by_check CHECK ((length(done_by) <= 200)),
    CONSTRAINT callback_requests_kind_check CHECK ((kind = ANY (ARRAY['transfer_failed'::text, 'after_hours'::text, 'asked'::text, 'reschedule_request'::text, 'sms_reply'::text, 'failure'::text]))),
    CONSTRAINT callback_requests_name_check CHECK ((length(name) <= 200)),
    CONSTRAINT callback_requests_note_check CHECK ((length(note) <= 1000)),
    CONSTRAINT callback_requests_reason_check CHECK (((length(reason) >= 1) AND (length(reason) <= 1000))),
    CONSTRAINT callback_requests_status_check CHECK ((status = ANY (ARRAY['open'::text, 'done'::text]))),
    CONSTRAINT callback_requests_vapi_call_id_check CHECK ((length(vapi_call_id) <= 200))
);

-- Name: TABLE callback_requests; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.callback_requests IS 'Callers a person at the clinic should call back (kind: transfer_failed, after_hours, asked, reschedule_request, sms_reply, failure), once per (call, kind), texted to the front desk once (sms_id). Staff close them (status done, done_by). Written by internal.request_callback.';

-- Name: callback_json(voxbook.callback_requests, voxbook.organizations); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.callback_json(r voxbook.callback_requests, o voxbook.organizations) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN jsonb_build_object(
        'id', r.id, 'kind', r.kind, 'status', r.status, 'reason', r.reason, 'name', r.name,
        'phone', r.phone, 'phone_display', internal.display_phone(r.phone, o.country),
        'vapi_call_id', r.vapi_call_id, 'appointment_id', r.appointment_id, 'sms_id', r.sms_id,
        'created_at', internal.utc_iso(r.created_at),
        'created_local', internal.local_text(r.created_at, o.time_zone, internal.locale(internal.clinic_locale(o.locale))),
        'done_at', internal.utc_iso(r.done_at), 'done_by', r.done_by, 'note', r.note);
END
$$;

-- Name: callback_kinds(); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.callback_kinds() RETURNS text[]
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT ARRAY['transfer_failed', 'after_hours', 'asked', 'reschedule_request', 'sms_reply', 'failure']
$$;

-- Name: caller_code_minutes(); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.caller_code_minutes() RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT 10 $$;

-- Name: caller_verified_for(); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.caller_verified_for() RETURNS interval
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT interval '4 hours' $$;

-- Name: cancel_unsent_codes(uuid, uuid, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.cancel_unsent_codes(org_id uuid, hold_id uuid, reason text) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    n int;
BEGIN
    UPDATE voxbook.sms_outbox AS m
       SET status = 'cancelled', skip_reason = reason, updated_at = now(),
           body = internal.redact_sms(m.body)
     WHERE m.org_id = cancel_unsent_codes.org_id AND m.hold_id = cancel_unsent_codes.hold_id
       AND m.kind = 'otp' AND m.status = 'queued';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- Name: carrier_accounts; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.carrier_accounts (
    org_id uuid NOT NULL,
    provider text DEFAULT 'twilio'::text NOT NULL,
    account_sid text NOT NULL,
    auth_token_ciphertext text NOT NULL,
    key_id text NOT NULL,
    messaging_service_sid text,
    parent_account_sid text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT carrier_accounts_account_sid_check CHECK ((account_sid ~ '^AC[0-9a-f]{32}$'::text)),
    CONSTRAINT carrier_accounts_auth_token_ciphertext_check CHECK (((auth_token_ciphertext ~ '^gAAAAA[A-Za-z0-9_=-]+$'::text) AND ((length(auth_token_ciphertext) >= 100) AND (length(auth_token_ciphertext) <= 1000)))),
    CONSTRAINT carrier_accounts_check CHECK (((parent_account_sid ~ '^AC[0-9a-f]{32}$'::text) AND (parent_account_sid <> account_sid))),
    CONSTRAINT carrier_accounts_key_id_check CHECK ((key_id ~ '^[0-9a-f]{8,64}$'::text)),
    CONSTRAINT carrier_accounts_messaging_service_sid_check CHECK ((messaging_service_sid ~ '^MG[0-9a-f]{32}$'::text)),
    CONSTRAINT carrier_accounts_provider_check CHECK ((provider = 'twilio'::text))
);

-- Name: TABLE carrier_accounts; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.carrier_accounts IS 'A clinic''s own carrier (Twilio) account; a clinic without a row uses the process-wide account. Set with api.set_carrier_account.';

-- Name: COLUMN carrier_accounts.auth_token_ciphertext; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.carrier_accounts.auth_token_ciphertext IS 'Fernet ciphertext of the auth token under VOXBOOK_SECRETS_KEY (outside the database); the plaintext is never stored.';

-- Name: COLUMN carrier_accounts.key_id; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.carrier_accounts.key_id IS 'Id of the key that made the ciphertext (sha256 of the key, 12 hex digits): what a key rotation re-encrypts.';

-- Name: COLUMN carrier_accounts.messaging_service_sid; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.carrier_accounts.messaging_service_sid IS 'The clinic''s Messaging Service (MG...): messages go through it; NULL = from the clinic''s sms_from number.';

-- Name: COLUMN carrier_accounts.parent_account_sid; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.carrier_accounts.parent_account_sid IS 'Set when account_sid is a subaccount: the main account it belongs to (for the operator; not used to send).';

-- Name: carrier_account_json(voxbook.carrier_accounts); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.carrier_account_json(a voxbook.carrier_accounts) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN jsonb_build_object('provider', a.provider, 'account_sid', a.account_sid,
                              'auth_token_ciphertext', a.auth_token_ciphertext, 'key_id', a.key_id,
                              'messaging_service_sid', a.messaging_service_sid,
                              'parent_account_sid', a.parent_account_sid, 'updated_at', internal.utc_iso(a.updated_at));
END
$$;

-- Name: catalogued(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.catalogued(language text) RETURNS boolean
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN language = 'en' OR EXISTS (SELECT 1 FROM voxbook.message_templates AS m WHERE m.language = catalogued.language);
END
$$;

-- Name: changed_by(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.changed_by(changed_by text) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT coalesce(internal.audit_name(changed_by), session_user::text)
$$;

-- Name: check_caller_code(voxbook.organizations, text, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.check_caller_code(o voxbook.organizations, call_id text, number text, code text) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
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
$_$;

-- Name: clear_future(voxbook.organizations, voxbook.calendars, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.clear_future(o voxbook.organizations, c voxbook.calendars, on_future text, changed_by text) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    future jsonb := internal.bookings_during(o, c.id, tstzrange(internal.clock(), NULL));
    e jsonb;
BEGIN
    IF jsonb_array_length(future -> 'appointments') > 0 AND on_future = 'refuse' THEN
        PERFORM internal.fail('VB409', format('%s has future appointments', c.display_name),
                              format('%s. Move or cancel them first, or pass on_future => ''cancel''.',
                                     internal.bookings_phrase(future - 'holds' || '{"holds": []}')),
                              internal.bookings_detail(future -> 'appointments'));
    END IF;
    -- The one cancellation path (40_appointments.sql): time freed, reminder cancelled, patient texted, recorded
    -- as staff (appointments.cancelled_by, the audit log); staff are never held to the cancellation notice.
    FOR e IN SELECT x FROM jsonb_array_elements(future -> 'appointments') AS t(x) WHERE on_future = 'cancel' LOOP
        PERFORM api.cancel_appointment(appointment_id => (e ->> 'appointment_id')::uuid, org_id => o.id,
                                       reason => format('%s is no longer available', c.display_name),
                                       staff_user => internal.changed_by(changed_by));
    END LOOP;
    PERFORM internal.release_listed_holds(o.id, future, 'provider deactivated');
    RETURN future;
END
$$;

-- Name: client_address(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.client_address(client_address text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
DECLARE
    given constant text := left(coalesce(nullif(btrim(client_address), ''), 'unknown'), 100);
    ip inet;
BEGIN
    IF given !~ '^[0-9A-Fa-f:.]+$' OR strpos(given, ':') = 0 THEN
        RETURN given;
    END IF;
    BEGIN
        ip := given::inet;
    EXCEPTION WHEN invalid_text_representation THEN
        RETURN given;
    END;
    IF family(ip) <> 6 OR ip << inet '::ffff:0:0/96' THEN
        RETURN given;
    END IF;
    RETURN network(set_masklen(ip, 64))::text;
END
$_$;

-- Name: clinic_json(voxbook.organizations); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.clinic_json(o voxbook.organizations) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    now_ts timestamptz := internal.clock();
    today date := (now_ts AT TIME ZONE o.time_zone)::date;
    providers jsonb := '[]';
    services jsonb := '[]';
    blocks jsonb := '[]';
    c voxbook.calendars;
    s voxbook.services;
    b voxbook.blocked_periods;
BEGIN
    FOR c IN SELECT * FROM voxbook.calendars AS x WHERE x.org_id = o.id ORDER BY x.id LOOP
        providers := providers || jsonb_build_array(internal.provider_json(c, today));
    END LOOP;
    FOR s IN SELECT * FROM voxbook.services AS x WHERE x.org_id = o.id ORDER BY x.id LOOP
        services := services || jsonb_build_array(internal.service_json(s));
    END LOOP;
    FOR b IN SELECT * FROM voxbook.blocked_periods AS x
              WHERE x.org_id = o.id AND upper(x.during) > now_ts ORDER BY lower(x.during), x.id LOOP
        blocks := blocks || jsonb_build_array(internal.block_json(b, o.time_zone));
    END LOOP;
    RETURN jsonb_build_object(
        'success', true, 'org_id', o.id, 'name', o.name, 'phone', o.phone, 'time_zone', o.time_zone,
        'country', o.country, 'country_code', o.country_code, 'locale', o.locale, 'languages', to_jsonb(o.languages),
        'hot_lead_phone', o.hot_lead_alert_phone, 'sms_from', o.sms_from,
        'settings', (SELECT jsonb_object_agg(k, r.v) FROM jsonb_each(internal.clinic_row(o)) AS r(k, v)
                      WHERE r.k = ANY (internal.clinic_setting_keys())
                        AND r.k NOT IN ('hot_lead_alert_phone', 'sms_from')),
        'providers', providers, 'services', services, 'blocks', blocks);
END
$$;

-- Name: clinic_locale(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.clinic_locale(clinic_locale text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    region constant text := nullif(split_part(coalesce(clinic_locale, ''), '-', 2), '');
BEGIN
    IF clinic_locale IS NOT NULL AND internal.catalogued(split_part(clinic_locale, '-', 1)) THEN
        RETURN clinic_locale;
    END IF;
    IF region IS NOT NULL AND EXISTS (SELECT 1 FROM voxbook.locale_formats AS l WHERE l.locale = 'en-' || region) THEN
        RETURN 'en-' || region;
    END IF;
    RETURN 'en-US';
END
$$;

-- Name: clinic_open(voxbook.organizations, timestamp with time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.clinic_open(o voxbook.organizations, at_ts timestamp with time zone) RETURNS boolean
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    local_ts constant timestamp := at_ts AT TIME ZONE o.time_zone;
    c voxbook.calendars;
BEGIN
    IF EXISTS (SELECT 1 FROM voxbook.blocked_periods AS b
                WHERE b.org_id = o.id AND b.calendar_id IS NULL AND b.during @> at_ts) THEN
        RETURN false;
    END IF;
    FOR c IN SELECT * FROM voxbook.calendars AS x WHERE x.org_id = o.id AND x.active ORDER BY x.id LOOP
        IF EXISTS (SELECT 1 FROM internal.day_hours(o.id, c.id, local_ts::date) AS h
                    WHERE local_ts::time >= h.starts AND (local_ts::time < h.ends OR h.ends = TIME '24:00')) THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;

-- Name: clinic_row(voxbook.organizations); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.clinic_row(o voxbook.organizations) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT to_jsonb(o) - 'created_at' $$;

-- Name: clinic_setting_keys(); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.clinic_setting_keys() RETURNS text[]
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT ARRAY['hold_minutes', 'code_length', 'max_code_attempts', 'max_code_sends', 'min_notice_minutes',
                 'cancellation_notice_minutes', 'booking_horizon_days', 'reminder_hours', 'hot_lead_threshold',
                 'hot_lead_alert_phone', 'sms_from', 'help_text', 'allowed_sms_calling_codes',
                 'code_sends_per_phone_hour', 'code_failures_per_phone_hour', 'code_sends_per_call',
                 'code_failures_per_call', 'code_sends_per_clinic_hour', 'code_failures_per_clinic_hour',
                 'front_desk_phone']
$$;

-- Name: clock(); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.clock() RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE WHEN coalesce(current_setting('voxbook.frozen_now', true), '') = '' THEN now()
                WHEN pg_has_role(session_user, 'voxbook_clock', 'MEMBER')
                    THEN current_setting('voxbook.frozen_now', true)::timestamptz
                ELSE now() END
$$;

-- Name: code_hash(bytea, text, bytea); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.code_hash(salt bytea, code text, pepper bytea) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT
    SET search_path TO 'pg_catalog', 'public'
    AS $$
    SELECT hmac(salt || convert_to(code, 'UTF8'), pepper, 'sha256')
$$;

-- Name: code_pepper(); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.code_pepper() RETURNS bytea
    LANGUAGE sql STABLE
    AS $$
    SELECT convert_to(nullif(current_setting('voxbook.code_pepper', true), ''), 'UTF8')
$$;

-- Name: code_rate_limit(voxbook.organizations, text, text, text, uuid, timestamp with time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.code_rate_limit(o voxbook.organizations, kind text, phone text, vapi_call_id text, hold_id uuid, now_ts timestamp with time zone) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    limits CONSTANT jsonb := CASE
        WHEN kind = 'send' THEN jsonb_build_array(o.code_sends_per_phone_hour, o.code_sends_per_call, o.code_sends_per_clinic_hour)
        ELSE jsonb_build_array(o.code_failures_per_phone_hour, o.code_failures_per_call, o.code_failures_per_clinic_hour) END;
    t timestamptz;
    wait interval := interval '0';
BEGIN
    -- Held until this transaction ends: a parallel send or guess of this clinic waits here and then counts
    -- our event. A row lock, not an advisory lock: on Citus that holds only on the node where it is taken,
    -- while this row is on the clinic's shard wherever the statement runs. The row is made by the clinic's
    -- first code (a concurrent first insert waits for ours, then finds the row).
    INSERT INTO voxbook.code_limit_locks AS x (org_id) VALUES (o.id)
    ON CONFLICT ON CONSTRAINT code_limit_locks_pkey DO NOTHING;
    PERFORM 1 FROM voxbook.code_limit_locks AS x WHERE x.org_id = o.id FOR UPDATE;
    -- In each scope the limit-th newest event of the window: while it is in the window, the limit is reached.
    SELECT e.at INTO t FROM voxbook.code_events AS e
     WHERE e.org_id = o.id AND e.phone = code_rate_limit.phone AND e.kind = code_rate_limit.kind
       AND e.at > now_ts - interval '1 hour' AND e.at <= now_ts
     ORDER BY e.at DESC OFFSET (limits->>0)::int - 1 LIMIT 1;
    IF FOUND THEN
        wait := greatest(wait, t + interval '1 hour' - now_ts);
    END IF;
    IF vapi_call_id IS NOT NULL THEN
        SELECT e.at INTO t FROM voxbook.code_events AS e
         WHERE e.org_id = o.id AND e.vapi_call_id = code_rate_limit.vapi_call_id AND e.kind = code_rate_limit.kind
           AND e.at > now_ts - interval '1 day' AND e.at <= now_ts
         ORDER BY e.at DESC OFFSET (limits->>1)::int - 1 LIMIT 1;
        IF FOUND THEN
            wait := greatest(wait, t + interval '1 day' - now_ts);
        END IF;
    END IF;
    SELECT e.at INTO t FROM voxbook.code_events AS e
     WHERE e.org_id = o.id AND e.kind = code_rate_limit.kind
       AND e.at > now_ts - interval '1 hour' AND e.at <= now_ts
     ORDER BY e.at DESC OFFSET (limits->>2)::int - 1 LIMIT 1;
    IF FOUND THEN
        wait := greatest(wait, t + interval '1 hour' - now_ts);
    END IF;
    IF wait = interval '0' THEN
        RETURN NULL;
    END IF;
    RETURN internal.refusal('rate_limited',
                            CASE WHEN kind = 'send' THEN internal.message('refusal.rate_limited.send', 'en')
                                 ELSE internal.message('refusal.rate_limited.failure', 'en') END,
                            jsonb_build_object('hold_id', hold_id,
                                               'retry_after_seconds', greatest(ceil(extract(epoch FROM wait)), 1)::int));
END
$$;

-- Name: codes_unavailable(uuid); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.codes_unavailable(hold_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT internal.refusal('codes_unavailable', internal.message('refusal.codes_unavailable', 'en'),
                            jsonb_build_object('hold_id', hold_id))
$$;

-- Name: confirm_hold(uuid, uuid, uuid, text, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.confirm_hold(org_id uuid, hold_id uuid, contact_id uuid, service text, via text, staff_user text) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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

-- Name: connection_by_id(uuid, uuid, boolean); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.connection_by_id(org_id uuid, connection_id uuid, lock boolean) RETURNS voxbook.calendar_connections
    LANGUAGE plpgsql
    AS $$
DECLARE
    cc voxbook.calendar_connections;
BEGIN
    PERFORM internal.require(connection_id, 'connection_id');
    IF lock THEN
        SELECT * INTO cc FROM voxbook.calendar_connections AS x
         WHERE x.org_id = connection_by_id.org_id AND x.id = connection_by_id.connection_id FOR UPDATE;
    ELSE
        SELECT * INTO cc FROM voxbook.calendar_connections AS x
         WHERE x.org_id = connection_by_id.org_id AND x.id = connection_by_id.connection_id;
    END IF;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown calendar connection',
                              'The connection was removed (api.disconnect_calendar) or belongs to another clinic.');
    END IF;
    RETURN cc;
END
$$;

-- Name: dashboard_call_json(uuid, uuid); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.dashboard_call_json(for_org uuid, for_call uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    clinic_tag text;
    loc jsonb;
BEGIN
    -- Times as the clinic writes them: the locale first, not per row of the query below (Citus).
    SELECT o.locale INTO clinic_tag FROM voxbook.organizations AS o WHERE o.id = for_org;
    loc := internal.field_locale(clinic_tag);
    RETURN (
    SELECT jsonb_build_object(
        'alert_id', al.id,
        'call_id', c.vapi_call_id,
        'name', coalesce(c.customer_name, ct.name),
        'phone_masked', internal.mask_phone(c.customer_phone),
        'has_phone', c.customer_phone IS NOT NULL,
        'service', c.service_id,
        'service_name', s.name,
        'score', c.lead_score,
        'reasons', c.score_reasons,
        'hot', c.is_hot,
        'booked', c.appointment_id IS NOT NULL,
        'appointment', CASE WHEN ap.id IS NOT NULL THEN jsonb_build_object(
                           'appointment_id', ap.id, 'status', ap.status, 'provider', cal.display_name,
                           'local_time', internal.local_text(h.starts_at, o.time_zone, loc)) END,
        'summary', c.summary,
        'duration_seconds', c.duration_seconds,
        'created_at', internal.utc_iso(coalesce(al.created_at, c.received_at)),
        'local_time', internal.local_text(coalesce(al.created_at, c.received_at), o.time_zone, loc),
        'acknowledged', al.acknowledged_at IS NOT NULL)
      FROM voxbook.calls AS c
      JOIN voxbook.organizations AS o ON o.id = c.org_id
      LEFT JOIN voxbook.hot_lead_alerts AS al ON al.org_id = c.org_id AND al.call_id = c.id
      LEFT JOIN voxbook.services AS s ON s.org_id = c.org_id AND s.id = c.service_id
      LEFT JOIN voxbook.contacts AS ct ON ct.org_id = c.org_id AND ct.phone = c.customer_phone
      LEFT JOIN voxbook.appointments AS ap ON ap.org_id = c.org_id AND ap.id = c.appointment_id
      LEFT JOIN voxbook.holds AS h ON h.org_id = ap.org_id AND h.id = ap.hold_id
      LEFT JOIN voxbook.calendars AS cal ON cal.org_id = h.org_id AND cal.id = h.calendar_id
     WHERE c.org_id = for_org AND c.id = for_call);
END
$$;

-- Name: dashboard_day_blocks(voxbook.organizations, text, date, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.dashboard_day_blocks(o voxbook.organizations, for_calendar text, for_day date, loc jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    lo constant timestamptz := for_day::timestamp AT TIME ZONE o.time_zone;
    hi constant timestamptz := (for_day + 1)::timestamp AT TIME ZONE o.time_zone;
BEGIN
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'block_id', b.id, 'calendar_id', b.calendar_id, 'reason', b.reason,
                       'starts_at', internal.utc_iso(lower(b.during)), 'ends_at', internal.utc_iso(upper(b.during)),
                       'local_start', internal.local_clock(greatest(lower(b.during), lo), o.time_zone, loc),
                       'local_end', CASE WHEN upper(b.during) >= hi THEN '24:00'
                                         ELSE internal.local_clock(upper(b.during), o.time_zone, loc) END,
                       'whole_day', lower(b.during) <= lo AND upper(b.during) >= hi)
                     ORDER BY lower(b.during), b.id), '[]')
              FROM voxbook.blocked_periods AS b
             WHERE b.org_id = o.id AND b.during && tstzrange(lo, hi, '[)')
               AND (b.calendar_id IS NULL OR b.calendar_id = for_calendar));
END
$$;

-- Name: dashboard_day_entries(voxbook.organizations, text, date, timestamp with time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.dashboard_day_entries(o voxbook.organizations, for_calendar text, for_day date, now_ts timestamp with time zone) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    loc constant jsonb := internal.field_locale(o.locale);   -- the clinic's way of writing times
BEGIN
    RETURN (
    WITH bounds AS (
        SELECT for_day::timestamp AT TIME ZONE o.time_zone AS lo,
               (for_day + 1)::timestamp AT TIME ZONE o.time_zone AS hi
    ), entries AS (
        SELECT h.starts_at, 1 AS rank, jsonb_build_object(
                   'kind', 'appointment', 'appointment_id', a.id, 'hold_id', h.id, 'status', a.status,
                   'starts_at', internal.utc_iso(h.starts_at), 'ends_at', internal.utc_iso(h.ends_at),
                   'local_start', internal.local_clock(h.starts_at, o.time_zone, loc),
                   'local_end', internal.local_clock(h.ends_at, o.time_zone, loc),
                   'patient_name', coalesce(a.patient_name, ct.name, h.patient_name),   -- the person booked for
                   'phone_masked', internal.mask_phone(ct.phone),
                   'service', a.service_id, 'service_name', s.name,
                   'confirmed_via', a.confirmed_via,
                   -- the patient's replies by SMS (46_sms_replies.sql): C, and CANCEL (opted out: may not come)
                   'patient_confirmed_at', internal.utc_iso(a.patient_confirmed_at),
                   'may_not_come_at', internal.utc_iso(a.may_not_come_at),
                   'confirmation_sms', sms.latest->'confirmation', 'reminder_sms', sms.latest->'reminder')
               -- the front desk's (72_desk.sql): attendance, who booked or cancelled and why
               || jsonb_build_object(
                   'calendar_id', h.calendar_id, 'local_date', (h.starts_at AT TIME ZONE o.time_zone)::date,
                   'attendance', a.attendance, 'attendance_at', internal.utc_iso(a.attendance_at),
                   'attendance_by', a.attendance_by, 'booked_by', a.booked_by, 'cancelled_by', a.cancelled_by,
                   'cancel_reason', a.cancel_reason, 'started', h.starts_at <= now_ts) AS j
          FROM voxbook.appointments AS a
          JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
          JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
          LEFT JOIN voxbook.services AS s ON s.org_id = a.org_id AND s.id = a.service_id
          -- The latest confirmation and reminder of the appointment, as the dashboard shows them (absent: null).
          -- Joined, not a helper called per row: on Citus that would nest a distributed query in a shard's.
          LEFT JOIN LATERAL (
                SELECT jsonb_object_agg(k.kind, k.j) AS latest
                  FROM (SELECT DISTINCT ON (m.kind) m.kind, jsonb_build_object(
                               'message_id', m.id, 'status', m.status, 'error_code', m.error_code,
                               'send_after', internal.utc_iso(m.send_after),
                               'local_send_after', internal.local_text(m.send_after, o.time_zone, loc),
                               'updated_at', internal.utc_iso(coalesce(m.status_updated_at, m.updated_at))) AS j
                          FROM voxbook.sms_outbox AS m
                         WHERE m.org_id = a.org_id AND m.appointment_id = a.id
                           AND m.kind IN ('confirmation', 'reminder')
                         ORDER BY m.kind, m.created_at DESC) AS k) AS sms ON true
          CROSS JOIN bounds AS b
         WHERE a.org_id = o.id AND h.calendar_id = for_calendar AND h.starts_at >= b.lo AND h.starts_at < b.hi
        UNION ALL
        SELECT h.starts_at, 0 AS rank, jsonb_build_object(
                   'kind', 'hold', 'appointment_id', NULL, 'hold_id', h.id, 'status', 'held',
                   'starts_at', internal.utc_iso(h.starts_at), 'ends_at', internal.utc_iso(h.ends_at),
                   'local_start', internal.local_clock(h.starts_at, o.time_zone, loc),
                   'local_end', internal.local_clock(h.ends_at, o.time_zone, loc),
                   'patient_name', h.patient_name, 'phone_masked', internal.mask_phone(h.patient_phone),
                   'service', h.service_id, 'service_name', s.name,
                   'expires_at', internal.utc_iso(h.expires_at),
                   'code_sent', h.otp_sent_at IS NOT NULL, 'calendar_id', h.calendar_id,
                   'local_date', (h.starts_at AT TIME ZONE o.time_zone)::date) AS j
          FROM voxbook.holds AS h
          LEFT JOIN voxbook.services AS s ON s.org_id = h.org_id AND s.id = h.service_id
          CROSS JOIN bounds AS b
         WHERE h.org_id = o.id AND h.calendar_id = for_calendar AND h.status = 'held' AND h.expires_at > now_ts
           AND h.starts_at >= b.lo AND h.starts_at < b.hi
    )
    SELECT coalesce(jsonb_agg(e.j ORDER BY e.starts_at, e.rank, e.j->>'status' DESC), '[]') FROM entries AS e);
END
$$;

-- Name: day_hours(uuid, text, date); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.day_hours(org_id uuid, calendar_id text, on_date date) RETURNS TABLE(starts time without time zone, ends time without time zone)
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM voxbook.hours_exceptions AS e
                WHERE e.org_id = day_hours.org_id AND e.calendar_id = day_hours.calendar_id
                  AND e.on_date = day_hours.on_date) THEN
        RETURN QUERY SELECT e.starts, e.ends FROM voxbook.hours_exceptions AS e
                      WHERE e.org_id = day_hours.org_id AND e.calendar_id = day_hours.calendar_id
                        AND e.on_date = day_hours.on_date AND e.starts IS NOT NULL
                      ORDER BY e.starts;
    ELSE
        RETURN QUERY SELECT w.starts, w.ends FROM voxbook.working_hours AS w
                      WHERE w.org_id = day_hours.org_id AND w.calendar_id = day_hours.calendar_id
                        AND w.iso_dow = extract(isodow FROM day_hours.on_date)
                      ORDER BY w.starts;
    END IF;
END
$$;

-- Name: day_keys(); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.day_keys() RETURNS text[]
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] $$;

-- Name: default_locale_formats(); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.default_locale_formats() RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT '{"am": "AM", "day_pattern": "E, MMM d", "day_template": "{weekday_abbr}, {month_abbr} {day}", "day_time_pattern": "E, MMM d ''at'' h:mm a", "day_time_template": "{weekday_abbr}, {month_abbr} {day} at {hour12}:{minute2} {period}", "hour_cycle": 12, "locale": "en-US", "months_abbr": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], "months_wide": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"], "pm": "PM", "spoken_hour_template": "{hour12} {period}", "spoken_time_template": "{hour12}:{minute2} {period}", "time_pattern": "h:mm a", "weekdays_abbr": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], "weekdays_wide": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]}'::jsonb
$$;

-- Name: derive_locale(text, text[]); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.derive_locale(country text, languages text[]) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    found_locale text;
BEGIN
    SELECT l.locale INTO found_locale FROM voxbook.locale_formats AS l
     WHERE (split_part(l.locale, '-', 2) = country AND (languages IS NULL OR split_part(l.locale, '-', 1) = languages[1]))
        OR l.locale = languages[1]
     ORDER BY split_part(l.locale, '-', 2) = country DESC, split_part(l.locale, '-', 1) = 'en' DESC, l.locale LIMIT 1;
    IF found_locale IS NULL THEN
        PERFORM internal.fail('VB400', format('no locale for country %s', country)
                                       || CASE WHEN languages IS NULL THEN '' ELSE ' and language ' || languages[1] END,
                              'Pass locale => one of: ' || (SELECT string_agg(l.locale, ', ' ORDER BY l.locale)
                                                             FROM voxbook.locale_formats AS l));
    END IF;
    RETURN found_locale;
END
$$;

-- Name: display_phone(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.display_phone(e164 text) RETURNS text
    LANGUAGE sql STABLE
    AS $_$
    SELECT CASE WHEN e164 ~ '^\+1[0-9]{10}$'
                THEN format('(%s) %s-%s', substr(e164, 3, 3), substr(e164, 6, 3), substr(e164, 9, 4))
                ELSE e164 END
$_$;

-- Name: display_phone(text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.display_phone(e164 text, country text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
    data constant jsonb := internal.national_formats();
    code text := data->'regions'->>upper(country);
    nsn text;
    f jsonb;
BEGIN
    IF e164 IS NULL OR code IS NULL OR e164 !~ ('^\+' || code || '[0-9]+$') THEN
        RETURN e164;
    END IF;
    nsn := substr(e164, length(code) + 2);
    FOR f IN SELECT x.value FROM jsonb_array_elements(data->'codes'->code) AS x LOOP
        IF (f->>0 IS NULL OR nsn ~ ('^(?:' || (f->>0) || ')')) AND nsn ~ ('^(?:' || (f->>1) || ')$') THEN
            RETURN regexp_replace(nsn, '^(?:' || (f->>1) || ')$', f->>2);
        END IF;
    END LOOP;
    RETURN nsn;   -- as libphonenumber: a national number no format fits is its digits
END
$_$;

-- Name: distinct_texts(text[]); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.distinct_texts(items text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT ARRAY(SELECT v FROM unnest(items) WITH ORDINALITY AS x(v, i)
                  WHERE coalesce(v, '') <> '' GROUP BY v ORDER BY min(i))
$$;

-- Name: exceptions_json(uuid, text, date); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.exceptions_json(org_id uuid, calendar_id text, from_date date) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object('on_date', d.on_date, 'hours', d.intervals, 'reason', d.reason)
                                      ORDER BY d.on_date), '[]')
              FROM (SELECT e.on_date,
                           coalesce(jsonb_agg(jsonb_build_array(internal.hhmm(e.starts), internal.hhmm(e.ends)) ORDER BY e.starts)
                                        FILTER (WHERE e.starts IS NOT NULL), '[]') AS intervals,
                           max(e.reason) AS reason
                      FROM voxbook.hours_exceptions AS e
                     WHERE e.org_id = exceptions_json.org_id AND e.calendar_id = exceptions_json.calendar_id
                       AND e.on_date >= from_date
                     GROUP BY e.on_date) AS d);
END
$$;

-- Name: fail(text, text, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.fail(code text, message text, hint text, detail text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF detail IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, HINT = hint;
    END IF;
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, HINT = hint, DETAIL = detail;
END
$$;

-- Name: field_locale(text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.field_locale(clinic_locale text, tag text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    chosen text := tag;
BEGIN
    IF chosen IS NULL THEN
        chosen := CASE WHEN clinic_locale = 'en-US' THEN 'en-US' ELSE internal.clinic_locale(clinic_locale) END;
    END IF;
    IF chosen = 'en-US' THEN
        RETURN internal.default_locale_formats();
    END IF;
    RETURN internal.locale(chosen);
END
$$;

-- Name: fill_template(text, text, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.fill_template(key text, template text, args jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
    parts text[];
    pos int;
    len int;
    name text;
    val text;
    result text;
BEGIN
    IF strpos(template, '{') = 0 THEN
        RETURN template;
    END IF;
    parts := regexp_split_to_array(template, '\{[a-z_]+\}');
    result := parts[1];
    pos := length(parts[1]) + 1;                       -- where '{' of the next placeholder is
    FOR i IN 1 .. cardinality(parts) - 1 LOOP
        len := strpos(substr(template, pos), '}');      -- '{name}': the first '}' from pos closes it
        name := substr(template, pos + 1, len - 2);
        IF args IS NULL OR NOT args ? name THEN
            RAISE EXCEPTION USING ERRCODE = 'XX000',
                                  MESSAGE = format('message %L needs the argument %L', key, name),
                                  HINT = 'Pass every {placeholder} of the template in args.';
        END IF;
        val := args->>name;
        -- One full stop where a value ending in one ('10 a.m.') meets the template's ('... {times}.').
        result := result || coalesce(val, '')
                  || CASE WHEN right(val, 1) = '.' AND left(parts[i + 1], 1) = '.'
                          THEN substr(parts[i + 1], 2) ELSE parts[i + 1] END;
        pos := pos + len + length(parts[i + 1]);
    END LOOP;
    RETURN result;
END
$$;

-- Name: fill_time(text, timestamp without time zone, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.fill_time(template text, lt timestamp without time zone, loc jsonb) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
           replace(replace(replace(template,
               '{weekday_abbr}', loc->'weekdays_abbr'->>(to_char(lt, 'ID')::int - 1)),
               '{weekday_wide}', loc->'weekdays_wide'->>(to_char(lt, 'ID')::int - 1)),
               '{month_abbr}', loc->'months_abbr'->>(to_char(lt, 'MM')::int - 1)),
               '{month_wide}', loc->'months_wide'->>(to_char(lt, 'MM')::int - 1)),
               '{month}', to_char(lt, 'FMMM')),
               '{month2}', to_char(lt, 'MM')),
               '{day}', to_char(lt, 'FMDD')),
               '{day2}', to_char(lt, 'DD')),
               '{hour12}', to_char(lt, 'FMHH12')),
               '{hour12_2}', to_char(lt, 'HH12')),
               '{hour24}', to_char(lt, 'FMHH24')),
               '{hour24_2}', to_char(lt, 'HH24')),
               '{minute}', to_char(lt, 'FMMI')),
               '{minute2}', to_char(lt, 'MI')),
               '{period}', CASE WHEN lt::time < time '12:00' THEN loc->>'am' ELSE loc->>'pm' END)
$$;

-- Name: staff_invites; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.staff_invites (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    staff_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    created_by text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    CONSTRAINT staff_invites_created_by_check CHECK ((length(created_by) <= 200)),
    CONSTRAINT staff_invites_token_hash_check CHECK ((length(token_hash) = 32))
);

-- Name: TABLE staff_invites; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.staff_invites IS 'One-time, expiring links to join a clinic''s dashboard (choose a password): sha256 of the token only.';

-- Name: find_invite(text, boolean); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.find_invite(token text, lock boolean, OUT inv voxbook.staff_invites, OUT refused jsonb) RETURNS record
    LANGUAGE plpgsql
    AS $$
BEGIN
    SELECT * INTO inv FROM voxbook.staff_invites AS x
     WHERE x.token_hash = internal.token_hash(coalesce(find_invite.token, ''));
    IF lock AND inv.id IS NOT NULL THEN
        -- Locked by its key, read again: Citus locks rows only in a query routed to one clinic by org_id.
        SELECT * INTO inv FROM voxbook.staff_invites AS x
         WHERE x.org_id = inv.org_id AND x.id = inv.id FOR UPDATE;
    END IF;
    IF inv.id IS NULL THEN
        refused := internal.refusal('invalid_invite', 'This invite link is not valid');
    ELSIF inv.used_at IS NOT NULL THEN
        refused := internal.refusal('invite_used', 'This invite link was used already: sign in instead');
    ELSIF inv.expires_at <= internal.clock() THEN
        refused := internal.refusal('invite_expired', 'This invite link has expired: ask the clinic''s owner for a new one');
    END IF;
END
$$;

-- Name: find_service(uuid, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.find_service(org_id uuid, service text) RETURNS voxbook.services
    LANGUAGE plpgsql STABLE
    AS $$
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
        PERFORM internal.fail('VB404', 'unknown service',
                              'Use a service id or name of this clinic (see api.get_organization).', left(service, 100));
    END IF;
    RETURN s;
END
$$;

-- Name: flag_may_not_come(uuid, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.flag_may_not_come(org_id uuid, phone text) RETURNS uuid
    LANGUAGE plpgsql
    AS $$
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

-- Name: flip_expired_holds(uuid, text, tstzrange); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.flip_expired_holds(org_id uuid, calendar_id text, during tstzrange) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    now_ts timestamptz := internal.clock();
    n int;
BEGIN
    UPDATE voxbook.holds AS x SET status = 'expired', release_reason = 'expired', updated_at = now_ts
     WHERE (x.org_id, x.id) IN (
            SELECT y.org_id, y.id FROM voxbook.holds AS y
             WHERE y.org_id = flip_expired_holds.org_id AND y.calendar_id = flip_expired_holds.calendar_id
               AND hashtextextended(y.calendar_id, 0) = hashtextextended(flip_expired_holds.calendar_id, 0)
               AND y.status = 'held' AND y.expires_at <= now_ts
               AND coalesce(y.occupies, tstzrange(y.starts_at, y.ends_at, '[)')) && during
             ORDER BY y.id FOR UPDATE)
       AND x.status = 'held';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- Name: free_slots(voxbook.organizations, text, voxbook.services, date, integer); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.free_slots(o voxbook.organizations, calendar_id text, s voxbook.services, first_day date, days integer) RETURNS TABLE(cal_id text, provider text, starts_at timestamp with time zone, ends_at timestamp with time zone)
    LANGUAGE plpgsql STABLE
    AS $$
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

-- Name: front_desk_number(voxbook.organizations); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.front_desk_number(o voxbook.organizations) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT coalesce(o.front_desk_phone, o.hot_lead_alert_phone)::text $$;

-- Name: gsm7(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.gsm7(t text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $_$
    SELECT regexp_replace(
             translate(t, '‘’‚“”„–—…ÀÁÂÃÈÊËÌÍÎÏÒÓÔÕÙÚÛÝáâãêëíîïóôõúûýÿçšžŠŽ',
                          '''''''"""--.AAAAEEEIIIIOOOOUUUYaaaeeiiiooouuyycszSZ'),
             '[^@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&''()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\\[~\]|€]',
             '?', 'g')
$_$;

-- Name: hhmm(time without time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.hhmm(t time without time zone) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN t = TIME '24:00' THEN '24:00'
                WHEN extract(second FROM t) <> 0 THEN to_char(t, 'HH24:MI:SS')
                ELSE to_char(t, 'HH24:MI') END
$$;

-- Name: hold_json(voxbook.holds, voxbook.organizations, voxbook.calendars, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.hold_json(h voxbook.holds, o voxbook.organizations, c voxbook.calendars, message text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    -- The caller's locale when the call said one (h.locale), else the clinic's (17_locales.sql). en-US
    -- without the call of internal.field_locale (which answers the same): a PL/pgSQL call costs ~30-50 k
    -- instructions per transaction, and most claims are at en-US clinics from callers who named no language.
    loc constant jsonb := CASE WHEN h.locale IS NULL AND o.locale = 'en-US' THEN internal.default_locale_formats()
                               ELSE internal.field_locale(o.locale, h.locale) END;
    lt constant timestamp := h.starts_at AT TIME ZONE o.time_zone;   -- converted once (17_locales.sql)
BEGIN
    RETURN jsonb_build_object(
        'success', true,
        'hold_id', h.id,
        'expires_at', internal.utc_iso(h.expires_at),
        'message', message,
        'status', h.status,
        'calendar_id', h.calendar_id,
        'provider', c.display_name,
        'starts_at', internal.utc_iso(h.starts_at),
        'ends_at', internal.utc_iso(h.ends_at),
        'local_time', internal.local_text_of(lt, loc),
        'spoken_time', internal.spoken_time_of(lt, loc));
END
$$;

-- Name: in_time_range(timestamp with time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.in_time_range(value timestamp with time zone) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
    SELECT value >= timestamptz '2000-01-01 00:00:00+00' AND value <= internal.clock() + interval '5 years'
$$;

-- Name: is_failed_transfer(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.is_failed_transfer(ended_reason text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT coalesce(lower(ended_reason) NOT LIKE '%forwarded%'
                    AND (lower(ended_reason) LIKE '%transfer-failed%'
                         OR lower(ended_reason) LIKE '%error-warm-transfer%'
                         OR lower(ended_reason) LIKE '%forwarding.operator-busy%'), false)
$$;

-- Name: keep_an_owner(uuid, uuid); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.keep_an_owner(org_id uuid, losing uuid) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    owners uuid[];
BEGIN
    SELECT coalesce(array_agg(y.id), '{}') INTO owners FROM (
        SELECT x.id FROM voxbook.staff_accounts AS x
         WHERE x.org_id = keep_an_owner.org_id AND x.role = 'owner' AND x.status = 'active'
         ORDER BY x.id FOR UPDATE) AS y;
    IF losing = ANY (owners) AND cardinality(owners) = 1 THEN
        PERFORM internal.fail('VB409', 'a clinic keeps at least one active owner',
                              'Make another person owner first (api.set_staff_role), then change this one.');
    END IF;
END
$$;

-- Name: local_clock(timestamp with time zone, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.local_clock(ts timestamp with time zone, tz text) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT to_char(ts AT TIME ZONE tz, 'FMHH12:MI AM')
$$;

-- Name: local_clock(timestamp with time zone, text, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.local_clock(ts timestamp with time zone, tz text, loc jsonb) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT internal.fill_time(loc->>'spoken_time_template', ts AT TIME ZONE tz, loc)
$$;

-- Name: local_day(timestamp with time zone, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.local_day(ts timestamp with time zone, tz text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN internal.local_day(ts, tz, internal.default_locale_formats());
END
$$;

-- Name: local_day(timestamp with time zone, text, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.local_day(ts timestamp with time zone, tz text, loc jsonb) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT internal.fill_time(loc->>'day_template', ts AT TIME ZONE tz, loc)
$$;

-- Name: local_instants(timestamp without time zone, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.local_instants(local_ts timestamp without time zone, tz text) RETURNS SETOF timestamp with time zone
    LANGUAGE sql STABLE
    AS $$
    -- The two candidates (by the offset a day before and a day after), each kept when the clock shows
    -- local_ts at it, the second only when it differs from the first: no DISTINCT (its sort was set up again
    -- for every grid point of every calendar: 3 200 of them in a refused claim's alternatives at a clinic of
    -- 200 providers), and an array rather than VALUES (whose expressions are initialised again for every row).
    SELECT x.at
      FROM (SELECT unnest(ARRAY[p.first, CASE WHEN p.second <> p.first THEN p.second END]) AS at
              FROM (SELECT (local_ts - ((b.near AT TIME ZONE tz) - (b.near AT TIME ZONE 'UTC'))) AT TIME ZONE 'UTC' AS first,
                           (local_ts - ((a.near AT TIME ZONE tz) - (a.near AT TIME ZONE 'UTC'))) AT TIME ZONE 'UTC' AS second
                      FROM (SELECT (local_ts - interval '1 day') AT TIME ZONE tz AS near) AS b,
                           (SELECT (local_ts + interval '1 day') AT TIME ZONE tz AS near) AS a) AS p) AS x
     WHERE x.at AT TIME ZONE tz = local_ts
$$;

-- Name: local_text(timestamp with time zone, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.local_text(ts timestamp with time zone, tz text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN internal.local_text(ts, tz, internal.default_locale_formats());
END
$$;

-- Name: local_text(timestamp with time zone, text, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.local_text(ts timestamp with time zone, tz text, loc jsonb) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT internal.local_text_of(ts AT TIME ZONE tz, loc)
$$;

-- Name: local_text_iso(text, text, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.local_text_iso(iso text, tz text, loc jsonb) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE WHEN iso IS NOT NULL THEN internal.local_text(iso::timestamptz, tz, loc) END
$$;

-- Name: local_text_of(timestamp without time zone, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.local_text_of(lt timestamp without time zone, loc jsonb) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT internal.fill_time(loc->>'day_time_template', lt, loc)
$$;

-- Name: locale(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.locale(tag text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    lang constant text := split_part(coalesce(tag, ''), '-', 1);
    loc jsonb;
BEGIN
    SELECT to_jsonb(l) INTO loc FROM voxbook.locale_formats AS l
     WHERE l.locale IN (tag, lang, 'en-US')
     ORDER BY l.locale = tag DESC, l.locale = lang DESC LIMIT 1;
    RETURN coalesce(loc, internal.default_locale_formats());
END
$$;

-- Name: lock_appointment(uuid, uuid, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.lock_appointment(org_id uuid, appointment_id uuid, patient_phone text) RETURNS voxbook.appointments
    LANGUAGE plpgsql
    AS $$
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

-- Name: lock_calendar(uuid, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.lock_calendar(org_id uuid, calendar_id text) RETURNS voxbook.calendars
    LANGUAGE plpgsql
    AS $$
        BEGIN
            -- (a NULL calendar_id takes no lock: the function is strict, and internal.require_calendar refuses it)
            PERFORM pg_advisory_xact_lock_shared(internal.calendar_lock_key(org_id, calendar_id));
            RETURN internal.require_calendar(org_id, calendar_id);   -- the active row, or VB404: read after the lock
        END
        $$;

-- Name: lock_calendar_change(uuid, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.lock_calendar_change(org_id uuid, calendar_id text) RETURNS voxbook.calendars
    LANGUAGE plpgsql
    AS $$
        DECLARE
            c voxbook.calendars;
        BEGIN
            PERFORM pg_advisory_xact_lock(internal.calendar_lock_key(org_id, calendar_id));
            -- FOR NO KEY UPDATE, not FOR UPDATE: a transaction holding a foreign key's key share of this row (clinic
            -- apply's one transaction: api.upsert_service wrote service_providers, then asks for this lock) would
            -- otherwise hold the row while waiting for the advisory lock we hold (tests/test_review_calendar_lock.py).
            -- Writers still exclude each other: FOR NO KEY UPDATE conflicts with itself.
            SELECT * INTO c FROM voxbook.calendars AS x
             WHERE x.org_id = lock_calendar_change.org_id AND x.id = lock_calendar_change.calendar_id FOR NO KEY UPDATE;
            RETURN c;
        END
        $$;

-- Name: lock_clinic_calendars(uuid); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.lock_clinic_calendars(org_id uuid) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    cal text;
BEGIN
    FOR cal IN SELECT x.id FROM voxbook.calendars AS x WHERE x.org_id = lock_clinic_calendars.org_id ORDER BY x.id LOOP
        PERFORM internal.lock_calendar_change(lock_clinic_calendars.org_id, cal);
    END LOOP;
END
$$;

-- Name: lock_hold(uuid, uuid); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.lock_hold(org_id uuid, hold_id uuid) RETURNS voxbook.holds
    LANGUAGE plpgsql
    AS $$
DECLARE
    h voxbook.holds;
BEGIN
    IF hold_id IS NULL THEN   -- as in internal.require_org: the helper only when it fails
        PERFORM internal.require(hold_id, 'hold_id');
    END IF;
    SELECT * INTO h FROM voxbook.holds AS x
     WHERE x.org_id = lock_hold.org_id AND x.id = lock_hold.hold_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown hold', 'Use the hold_id returned by api.claim_slot_atomic for this clinic.');
    END IF;
    RETURN h;
END
$$;

-- Name: mask_phone(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.mask_phone(e164 text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $_$
    SELECT CASE WHEN e164 IS NULL THEN NULL
                WHEN e164 ~ '^\+1[0-9]{10}$' THEN '(***) ***-' || right(e164, 4)
                ELSE '+' || repeat('*', greatest(length(e164) - 5, 1)) || right(e164, 4) END
$_$;

-- Name: message(text, text, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.message(key text, language text, args jsonb DEFAULT '{}'::jsonb) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    tag constant text := coalesce(message.language, 'en');
    base constant text := split_part(coalesce(message.language, 'en'), '-', 1);
    template text;
BEGIN
    template := internal.template(key, tag, base);
    IF template IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'XX000', MESSAGE = format('unknown message key %L', key),
                              HINT = 'Add it for ''en'' in db/functions/16_messages.sql.';
    END IF;
    RETURN internal.fill_template(key, template, args);
END
$$;

-- Name: my_access(voxbook.organizations, text, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.my_access(o voxbook.organizations, call_id text, caller_phone text, phone text, OUT subject text, OUT refused jsonb) RETURNS record
    LANGUAGE plpgsql STABLE
    AS $$
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

-- Name: my_appointments_line(text, jsonb, text, text, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.my_appointments_line(function_name text, result jsonb, language text, tz text, loc jsonb) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
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

-- Name: my_identity(voxbook.organizations, text, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.my_identity(o voxbook.organizations, call_id text, caller_phone text, phone text, OUT subject text, OUT verified boolean) RETURNS record
    LANGUAGE plpgsql STABLE
    AS $$
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

-- Name: my_upcoming(voxbook.organizations, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.my_upcoming(o voxbook.organizations, subject text, call_id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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

-- Name: national_formats(); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.national_formats() RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT '{"codes":{"1":[["310","(\\d{3})(\\d{4})","\\1-\\2"],["[24-9]|3(?:[02-9]|1[1-9])","(\\d{3})(\\d{4})","\\1-\\2"],["[2-9]","(\\d{3})(\\d{3})(\\d{4})","(\\1) \\2-\\3"]],"20":[["[23]","(\\d)(\\d{7,8})","0\\1 \\2"],["1[35]|[4-6]|8[2468]|9[235-7]","(\\d{2})(\\d{6,7})","0\\1 \\2"],["[89]","(\\d{3})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["1","(\\d{2})(\\d{8})","0\\1 \\2"]],"211":[["[19]","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"]],"212":[["892","(\\d{4})(\\d{5})","0\\1-\\2"],["8(?:0[0-7]|9)","(\\d{2})(\\d{7})","0\\1-\\2"],["[5-8]","(\\d)(\\d{2})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4 \\5"]],"213":[["[1-4]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"],["9","(\\d{2})(\\d{3})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"],["[5-8]","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"]],"216":[["[2-57-9]","(\\d{2})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"218":[["[2-9]","(\\d{2})(\\d{7})","0\\1-\\2"]],"220":[["[235-9]|4(?:[0-35]|4[16-9])","(\\d{3})(\\d{4})","\\1 \\2"],["[48]","(\\d{2})(\\d{3})(\\d{4})","\\1 \\2 \\3"]],"221":[["8","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"],["[379]","(\\d{2})(\\d{3})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"222":[["[2-48]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"223":[["67(?:0[09]|[59]9|77|8[89])|74(?:0[02]|44|55)","(\\d{4})","\\1"],["[24-9]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"224":[["3","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"],["[67]","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"225":[["2","(\\d{2})(\\d{2})(\\d)(\\d{5})","\\1 \\2 \\3 \\4"],["0","(\\d{2})(\\d{2})(\\d{2})(\\d{4})","\\1 \\2 \\3 \\4"]],"226":[["[024-7]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"227":[["08","(\\d{2})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["[089]|2[013]|7[0467]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"228":[["[279]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"229":[["0","(\\d{2})(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4 \\5"]],"230":[["[2-46]|8[013]","(\\d{3})(\\d{4})","\\1 \\2"],["[57]","(\\d{4})(\\d{4})","\\1 \\2"],["8","(\\d{5})(\\d{5})","\\1 \\2"]],"231":[["4[67]|[56]","(\\d)(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["2","(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[2-578]","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"]],"232":[["[236-9]","(\\d{2})(\\d{6})","(0\\1) \\2"]],"233":[["[236-9]","(\\d{3})(\\d{4})","\\1 \\2"],["8","(\\d{3})(\\d{5})","0\\1 \\2"],["[2358]","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"]],"234":[["[7-9]","(\\d{3})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["20[129]","(\\d{3})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["2","(\\d{4})(\\d{2})(\\d{4})","0\\1 \\2 \\3"],["[78]","(\\d{3})(\\d{4})(\\d{4,5})","0\\1 \\2 \\3"],["[78]","(\\d{3})(\\d{5})(\\d{5,6})","0\\1 \\2 \\3"]],"235":[["[236-9]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"236":[["[26-8]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"237":[["88","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"],["[26]|88","(\\d)(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4 \\5"]],"238":[["[2-589]","(\\d{3})(\\d{2})(\\d{2})","\\1 \\2 \\3"]],"239":[["[29]","(\\d{3})(\\d{4})","\\1 \\2"]],"240":[["[235]","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["[89]","(\\d{3})(\\d{6})","\\1 \\2"]],"241":[["[2-7]","(\\d)(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"],["0","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"],["11|[67]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"]],"242":[["8","(\\d)(\\d{4})(\\d{4})","\\1 \\2 \\3"],["[02]","(\\d{2})(\\d{3})(\\d{4})","\\1 \\2 \\3"]],"243":[["88","(\\d{2})(\\d{2})(\\d{3})","0\\1 \\2 \\3"],["[1-6]","(\\d{2})(\\d{5})","0\\1 \\2"],["2","(\\d{2})(\\d{2})(\\d{4})","0\\1 \\2 \\3"],["1","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["[89]","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["5","(\\d{2})(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2 \\3 \\4"]],"244":[["[29]","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"245":[["40","(\\d{3})(\\d{4})","\\1 \\2"],["[49]","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"246":[["3","(\\d{3})(\\d{4})","\\1 \\2"]],"247":[],"248":[["[246]|9[57]","(\\d)(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"249":[["[19]","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"]],"250":[["0","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"],["2","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["[7-9]","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"]],"251":[["[1-57-9]","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"]],"252":[["8[125]","(\\d{2})(\\d{4})","\\1 \\2"],["[134]","(\\d{6})","\\1"],["[15]|2[0-79]|3[0-46-8]|4[0-7]","(\\d)(\\d{6})","\\1 \\2"],["1|28|9[2-9]","(\\d{2})(\\d{5,7})","\\1 \\2"],["[267]|904","(\\d)(\\d{7})","\\1 \\2"],["[346-9]","(\\d{2})(\\d{3})(\\d{4})","\\1 \\2 \\3"]],"253":[["[27]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"254":[["[24-6]","(\\d{2})(\\d{5,7})","0\\1 \\2"],["[17]","(\\d{3})(\\d{6})","0\\1 \\2"],["[89]","(\\d{3})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"]],"255":[["[89]","(\\d{3})(\\d{2})(\\d{4})","0\\1 \\2 \\3"],["[24]","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["5","(\\d{2})(\\d{7})","\\1 \\2"],["[67]","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"]],"256":[["20240","(\\d{4})(\\d{5})","0\\1 \\2"],["20(?:[0135-7]|2[5-9])|4(?:6[45]|[7-9])|[7-9]","(\\d{3})(\\d{6})","0\\1 \\2"],["[2-4]","(\\d{2})(\\d{7})","0\\1 \\2"]],"257":[["[2367]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"258":[["2|8[2-9]","(\\d{2})(\\d{3})(\\d{3,4})","\\1 \\2 \\3"],["8","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"260":[["[1-9]","(\\d{3})(\\d{3})","\\1 \\2"],["[28]","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[579]","(\\d{2})(\\d{7})","0\\1 \\2"]],"261":[["[23]","(\\d{2})(\\d{2})(\\d{3})(\\d{2})","0\\1 \\2 \\3 \\4"]],"262":[["[26-9]","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"]],"263":[["80","(\\d{3})(\\d{4})","0\\1 \\2"],["29[013-9]","(\\d{2})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["[256]|39|8[13-59]","(\\d{2})(\\d{7})","(0\\1) \\2"],["7","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["3","(\\d{3})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["8","(\\d{4})(\\d{6})","0\\1 \\2"]],"264":[["88","(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["6","(\\d{2})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["87","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["8","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"]],"265":[["1[2-9]","(\\d)(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[1-37-9]","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"]],"266":[["[2568]","(\\d{4})(\\d{4})","\\1 \\2"]],"267":[["90","(\\d{2})(\\d{5})","\\1 \\2"],["[2-6]","(\\d{3})(\\d{4})","\\1 \\2"],["7","(\\d{2})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["0","(\\d{4})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["8","(\\d{3})(\\d{4})(\\d{3})","\\1 \\2 \\3"]],"268":[["[0237]","(\\d{4})(\\d{4})","\\1 \\2"],["9","(\\d{5})(\\d{4})","\\1 \\2"]],"269":[["[3478]","(\\d{3})(\\d{2})(\\d{2})","\\1 \\2 \\3"]],"27":[["8[1-4]","(\\d{2})(\\d{3,4})","0\\1 \\2"],["8[1-4]","(\\d{2})(\\d{3})(\\d{2,3})","0\\1 \\2 \\3"],["860","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[1-9]","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["8","(\\d{3})(\\d{3})(\\d{4})","0\\1 \\2 \\3"]],"290":[],"291":[["[178]","(\\d)(\\d{3})(\\d{3})","0\\1 \\2 \\3"]],"297":[["[25-9]","(\\d{3})(\\d{4})","\\1 \\2"]],"298":[["[2-9]","(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3"]],"299":[["19|[2-9]","(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3"]],"30":[["21|7","(\\d{2})(\\d{4})(\\d{4})","\\1 \\2 \\3"],["2(?:2|3[2-57-9]|4[2-469]|5[2-59]|6[2-9]|7[2-69]|8[2-49])|5","(\\d{4})(\\d{6})","\\1 \\2"],["[2689]","(\\d{3})(\\d{3})(\\d{4})","\\1 \\2 \\3"],["8","(\\d{3})(\\d{3,4})(\\d{5})","\\1 \\2 \\3"]],"31":[["1[238]|[34]","(\\d{4})","\\1"],["14","(\\d{2})(\\d{3,4})","\\1 \\2"],["1","(\\d{6})","\\1"],["[89]0","(\\d{3})(\\d{4,7})","0\\1 \\2"],["66","(\\d{2})(\\d{7})","0\\1 \\2"],["6","(\\d)(\\d{8})","0\\1 \\2"],["1[16-8]|2[259]|3[124]|4[17-9]|5[124679]","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[1-578]|91","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["9","(\\d{3})(\\d{3})(\\d{5})","0\\1 \\2 \\3"]],"32":[["(?:80|9)0","(\\d{3})(\\d{2})(\\d{3})","0\\1 \\2 \\3"],["[239]|4[23]","(\\d)(\\d{3})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"],["[15-8]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"],["4","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"]],"33":[["10","(\\d{4})","\\1"],["1","(\\d{3})(\\d{3})","\\1 \\2"],["8","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0 \\1 \\2 \\3 \\4"],["[1-79]","(\\d)(\\d{2})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4 \\5"]],"34":[["905[124578]","(\\d{4})","\\1"],["[79]9","(\\d{6})","\\1"],["[89]00","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["[4-9]","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"350":[["2","(\\d{3})(\\d{5})","\\1 \\2"]],"351":[["2[12]","(\\d{2})(\\d{3})(\\d{4})","\\1 \\2 \\3"],["16|[236-9]","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"352":[["2(?:0[2-689]|[2-9])|[3-57]|8(?:0[2-9]|[13-9])|9(?:0[89]|[2-579])","(\\d{2})(\\d{3})","\\1 \\2"],["2(?:0[2-689]|[2-9])|[3-57]|8(?:0[2-9]|[13-9])|9(?:0[89]|[2-579])","(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3"],["20[2-689]","(\\d{2})(\\d{2})(\\d{3})","\\1 \\2 \\3"],["20","(\\d{2})(\\d{2})(\\d{2})(\\d{1,2})","\\1 \\2 \\3 \\4"],["[3-57]|8[13-9]|9(?:0[89]|[2-579])|(?:2|80)[2-9]","(\\d{2})(\\d{2})(\\d{2})(\\d{1,5})","\\1 \\2 \\3 \\4"],["80[01]|90[015]","(\\d{3})(\\d{2})(\\d{3})","\\1 \\2 \\3"],["20","(\\d{2})(\\d{2})(\\d{2})(\\d{3})","\\1 \\2 \\3 \\4"],["6","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["20","(\\d{2})(\\d{2})(\\d{2})(\\d{2})(\\d{1,2})","\\1 \\2 \\3 \\4 \\5"]],"353":[["2[24-9]|47|58|6[237-9]|9[35-9]","(\\d{2})(\\d{5})","(0\\1) \\2"],["[45]0","(\\d{3})(\\d{5})","(0\\1) \\2"],["1","(\\d)(\\d{3,4})(\\d{4})","(0\\1) \\2 \\3"],["[2569]|4[1-69]|7[14]","(\\d{2})(\\d{3})(\\d{3,4})","(0\\1) \\2 \\3"],["70","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["81","(\\d{3})(\\d{3})(\\d{3})","(0\\1) \\2 \\3"],["[78]","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["1","(\\d{4})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["4","(\\d{2})(\\d{4})(\\d{4})","(0\\1) \\2 \\3"],["8","(\\d{2})(\\d)(\\d{3})(\\d{4})","0\\1 \\2 \\3 \\4"]],"354":[["[4-9]","(\\d{3})(\\d{4})","\\1 \\2"],["3","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"355":[["80|9","(\\d{3})(\\d{3,4})","0\\1 \\2"],["4[2-6]","(\\d)(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["[2358][2-5]|4","(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[23578]","(\\d{3})(\\d{5})","0\\1 \\2"],["6","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"]],"356":[["[2357-9]","(\\d{4})(\\d{4})","\\1 \\2"]],"357":[["[257-9]","(\\d{2})(\\d{6})","\\1 \\2"]],"358":[["75[12]","(\\d{5})","0\\1"],["20[2-59]","(\\d{5})","0\\1"],["11","(\\d{6})","\\1"],["(?:[1-3]0|[68])0|70[07-9]","(\\d{3})(\\d{3,7})","0\\1 \\2"],["[14]|2[09]|50|7[135]","(\\d{2})(\\d{4,8})","0\\1 \\2"],["7","(\\d{2})(\\d{6,10})","0\\1 \\2"],["(?:19|[2568])[1-8]|3(?:0[1-9]|[1-9])|9","(\\d)(\\d{4,9})","0\\1 \\2"]],"359":[["1","(\\d{6})","\\1"],["2","(\\d)(\\d)(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"],["43[1-6]|70[1-9]","(\\d{3})(\\d{4})","0\\1 \\2"],["2","(\\d)(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["[356]|4[124-7]|7[1-9]|8[1-6]|9[1-7]","(\\d{2})(\\d{3})(\\d{2,3})","0\\1 \\2 \\3"],["(?:70|8)0","(\\d{3})(\\d{2})(\\d{3})","0\\1 \\2 \\3"],["43[1-7]|7","(\\d{3})(\\d{3})(\\d{2})","0\\1 \\2 \\3"],["[48]|9[08]","(\\d{2})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["9","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"]],"36":[["1","(\\d)(\\d{3})(\\d{4})","(06 \\1) \\2 \\3"],["[27][2-9]|3[2-7]|4[24-9]|5[2-79]|6|8[2-57-9]|9[2-69]","(\\d{2})(\\d{3})(\\d{3})","(06 \\1) \\2 \\3"],["[2-9]","(\\d{2})(\\d{3})(\\d{3,4})","06 \\1 \\2 \\3"]],"370":[["52[0-7]","(\\d)(\\d{3})(\\d{4})","(0-\\1) \\2 \\3"],["[7-9]","(\\d{3})(\\d{2})(\\d{3})","0 \\1 \\2 \\3"],["37|4(?:[15]|6[1-8])","(\\d{2})(\\d{6})","(0-\\1) \\2"],["[3-6]","(\\d{3})(\\d{5})","(0-\\1) \\2"]],"371":[["[2679]|8[01]","(\\d{2})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"372":[["[369]|4[3-8]|5(?:[02]|1(?:[0-8]|95)|5[0-478]|6(?:4[0-4]|5[1-589]))|7[1-9]|88","(\\d{3})(\\d{4})","\\1 \\2"],["[45]|8(?:00[1-9]|[1-49])","(\\d{4})(\\d{3,4})","\\1 \\2"],["7","(\\d{2})(\\d{2})(\\d{4})","\\1 \\2 \\3"],["8","(\\d{4})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"373":[["[89]","(\\d{3})(\\d{5})","0\\1 \\2"],["22|3","(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[25-7]","(\\d{3})(\\d{2})(\\d{3})","0\\1 \\2 \\3"]],"374":[["[89]0","(\\d{3})(\\d{2})(\\d{3})","0 \\1 \\2 \\3"],["2|3[12]","(\\d{3})(\\d{5})","(0\\1) \\2"],["1|47","(\\d{2})(\\d{6})","(0\\1) \\2"],["[3-9]","(\\d{2})(\\d{6})","0\\1 \\2"]],"375":[["800","(\\d{3})(\\d{3})","8 \\1 \\2"],["800","(\\d{3})(\\d{2})(\\d{2,4})","8 \\1 \\2 \\3"],["1(?:5[169]|6(?:3[1-3]|4|5[125])|7(?:1[3-9]|7[0-24-6]|9[2-7]))|2(?:1[35]|2[34]|3[3-5])","(\\d{4})(\\d{2})(\\d{3})","8 0\\1 \\2-\\3"],["1(?:[56]|7[467])|2[1-3]","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","8 0\\1 \\2-\\3-\\4"],["[1-4]","(\\d{2})(\\d{3})(\\d{2})(\\d{2})","8 0\\1 \\2-\\3-\\4"],["[89]","(\\d{3})(\\d{3,4})(\\d{4})","8 \\1 \\2 \\3"]],"376":[["[135-9]","(\\d{3})(\\d{3})","\\1 \\2"],["1","(\\d{4})(\\d{4})","\\1 \\2"],["6","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"377":[["87","(\\d{3})(\\d{3})(\\d{2})","\\1 \\2 \\3"],["4","(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[389]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"],["[67]","(\\d)(\\d{2})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4 \\5"]],"378":[["[89]","(\\d{6})","\\1"],["[5-7]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"],["0","(\\d{4})(\\d{6})","\\1 \\2"]],"380":[["6[12][29]|(?:35|4[1378]|5[12457]|6[49])2|(?:56|65)[24]|(?:3[1-46-8]|46)2[013-9]","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["3[1-8]|4(?:[1367]|[45][6-9]|8[4-6])|5(?:[1-5]|6(?:[015689]|3[02389])|7[4-6])|6(?:[12][3-7]|[459])","(\\d{4})(\\d{5})","0\\1 \\2"],["[3-7]|89|9[1-9]","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["[89]","(\\d{3})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"]],"381":[["(?:2[389]|39)0|[7-9]","(\\d{3})(\\d{3,9})","0\\1 \\2"],["[1-36]","(\\d{2})(\\d{5,10})","0\\1 \\2"]],"382":[["[2-9]","(\\d{2})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"]],"383":[["[89]","(\\d{3})(\\d{5})","0\\1 \\2"],["[2-4]","(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["2|39","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["3","(\\d{2})(\\d{7,10})","0\\1 \\2"]],"385":[["6[01]","(\\d{2})(\\d{2})(\\d{3})","0\\1 \\2 \\3"],["8","(\\d{3})(\\d{2})(\\d{2,3})","0\\1 \\2 \\3"],["1","(\\d)(\\d{4})(\\d{3})","0\\1 \\2 \\3"],["6|7[245]","(\\d{2})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["9","(\\d{2})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["[2-57]","(\\d{2})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["8","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"]],"386":[["8[09]|9","(\\d{2})(\\d{3,6})","0\\1 \\2"],["59|8","(\\d{3})(\\d{5})","0\\1 \\2"],["[37][01]|4[013]|51|6","(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[1-57]","(\\d)(\\d{3})(\\d{2})(\\d{2})","(0\\1) \\2 \\3 \\4"]],"387":[["[2-9]","(\\d{3})(\\d{3})","\\1-\\2"],["6[1-3]|[7-9]","(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[3-5]|6[56]","(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2-\\3"],["6","(\\d{2})(\\d{2})(\\d{2})(\\d{3})","0\\1 \\2 \\3 \\4"]],"389":[["2|34[47]|4(?:[37]7|5[47]|64)","(\\d)(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["[347]","(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[58]","(\\d{3})(\\d)(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"]],"39":[["1(?:0|9(?:2[2-9]|[46]))","(\\d{4,5})","\\1"],["1(?:1|92)","(\\d{6})","\\1"],["0[26]","(\\d{2})(\\d{4,6})","\\1 \\2"],["0[13-57-9][0159]|8(?:03|4[17]|9(?:2|3[04]|[45][0-4]))","(\\d{3})(\\d{3,6})","\\1 \\2"],["0(?:[13-579][2-46-8]|8[236-8])","(\\d{4})(\\d{2,6})","\\1 \\2"],["894","(\\d{4})(\\d{4})","\\1 \\2"],["0[26]|5","(\\d{2})(\\d{3,4})(\\d{4})","\\1 \\2 \\3"],["1(?:44|[679])|[378]|43","(\\d{3})(\\d{3})(\\d{3,4})","\\1 \\2 \\3"],["0[13-57-9][0159]|14","(\\d{3})(\\d{3,4})(\\d{4})","\\1 \\2 \\3"],["0[26]","(\\d{2})(\\d{4})(\\d{5})","\\1 \\2 \\3"],["0","(\\d{4})(\\d{3})(\\d{4})","\\1 \\2 \\3"],["[03]","(\\d{3})(\\d{4})(\\d{4,5})","\\1 \\2 \\3"]],"40":[["2[3-6]\\d9","(\\d{3})(\\d{3})","0\\1 \\2"],["219|31","(\\d{2})(\\d{4})","0\\1 \\2"],["[23]1","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["[237-9]","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"]],"41":[["8[047]|90","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[2-79]|81","(\\d{2})(\\d{3})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"],["8","(\\d{3})(\\d{2})(\\d{3})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4 \\5"]],"420":[["[2-8]|9[015-7]","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["96","(\\d{2})(\\d{3})(\\d{3})(\\d{2})","\\1 \\2 \\3 \\4"],["9","(\\d{2})(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3 \\4"],["9","(\\d{3})(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3 \\4"]],"421":[["21","(\\d)(\\d{2})(\\d{3,4})","0\\1 \\2 \\3"],["[3-5][1-8]1[67]","(\\d{2})(\\d{2})(\\d{2,3})","0\\1 \\2 \\3"],["9090","(\\d{4})(\\d{3})","0\\1 \\2"],["2","(\\d)(\\d{3})(\\d{3})(\\d{2})","0\\1 \\2 \\3 \\4"],["[689]","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[3-5]","(\\d{2})(\\d{3})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"]],"423":[["[2379]|8(?:0(?:02|9)|7)","(\\d{3})(\\d{2})(\\d{2})","\\1 \\2 \\3"],["8","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["69","(\\d{2})(\\d{3})(\\d{4})","\\1 \\2 \\3"],["6","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"43":[["14","(\\d{4})","\\1"],["1(?:11|[2-9])","(\\d)(\\d{3,12})","0\\1 \\2"],["517","(\\d{3})(\\d{2})","0\\1 \\2"],["5[079]","(\\d{2})(\\d{3,5})","0\\1 \\2"],["[18]","(\\d{6})","\\1"],["(?:31|4)6|51|6(?:485|5[0-3579]|[6-9])|7(?:20|32|8)|[89]","(\\d{3})(\\d{3,10})","0\\1 \\2"],["[2-467]|5[2-6]","(\\d{4})(\\d{3,9})","0\\1 \\2"],["5","(\\d{2})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["5","(\\d{2})(\\d{4})(\\d{4,7})","0\\1 \\2 \\3"]],"44":[["8001111","(\\d{3})(\\d{4})","0\\1 \\2"],["845464","(\\d{3})(\\d{2})(\\d{2})","0\\1 \\2 \\3"],["800","(\\d{3})(\\d{6})","0\\1 \\2"],["1(?:3873|5(?:242|39[4-6])|(?:697|768)[347]|9467)","(\\d{5})(\\d{4,5})","0\\1 \\2"],["1(?:[2-69][02-9]|[78])","(\\d{4})(\\d{5,6})","0\\1 \\2"],["[25]|7(?:0|6(?:[03-9]|2[356]))","(\\d{2})(\\d{4})(\\d{4})","0\\1 \\2 \\3"],["7","(\\d{4})(\\d{6})","0\\1 \\2"],["[1389]","(\\d{3})(\\d{3})(\\d{4})","0\\1 \\2 \\3"]],"45":[["[2-9]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"46":[["20","(\\d{2})(\\d{2,3})(\\d{2})","0\\1-\\2 \\3"],["9(?:00|39|44|9)","(\\d{3})(\\d{4})","0\\1-\\2"],["[12][136]|3[356]|4[0246]|6[03]|90[1-9]","(\\d{2})(\\d{3})(\\d{2})","0\\1-\\2 \\3"],["8","(\\d)(\\d{2,3})(\\d{2})(\\d{2})","0\\1-\\2 \\3 \\4"],["1[2457]|2(?:[247-9]|5[0138])|3[0247-9]|4[1357-9]|5[0-35-9]|6(?:[125689]|4[02-57]|7[0-2])|9(?:[125-8]|3[02-5]|4[0-3])","(\\d{3})(\\d{2,3})(\\d{2})","0\\1-\\2 \\3"],["9(?:00|39|44)","(\\d{3})(\\d{2,3})(\\d{3})","0\\1-\\2 \\3"],["1[13689]|2[0136]|3[1356]|4[0246]|54|6[03]|90[1-9]","(\\d{2})(\\d{2,3})(\\d{2})(\\d{2})","0\\1-\\2 \\3 \\4"],["10|7","(\\d{2})(\\d{3})(\\d{2})(\\d{2})","0\\1-\\2 \\3 \\4"],["8","(\\d)(\\d{3})(\\d{3})(\\d{2})","0\\1-\\2 \\3 \\4"],["[13-5]|2(?:[247-9]|5[0138])|6(?:[124-689]|7[0-2])|9(?:[125-8]|3[02-5]|4[0-3])","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0\\1-\\2 \\3 \\4"],["9","(\\d{3})(\\d{2})(\\d{2})(\\d{3})","0\\1-\\2 \\3 \\4"],["[26]","(\\d{3})(\\d{2})(\\d{3})(\\d{2})(\\d{2})","0\\1-\\2 \\3 \\4 \\5"]],"47":[["8","(\\d{3})(\\d{2})(\\d{3})","\\1 \\2 \\3"],["[2-79]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"48":[["19","(\\d{5})","\\1"],["11|20|64","(\\d{3})(\\d{3})","\\1 \\2"],["30|(?:1[2-8]|2[2-69]|3[2-4]|4[1-468]|5[24-689]|6[1-3578]|7[14-7]|8[1-79]|9[145])19","(\\d{2})(\\d{2})(\\d{3})","\\1 \\2 \\3"],["64","(\\d{3})(\\d{2})(\\d{2,3})","\\1 \\2 \\3"],["21|39|45|5[0137]|6[0469]|7[02389]|8(?:0[14]|8)","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["1[2-8]|[2-7]|8[1-79]|9[145]","(\\d{2})(\\d{3})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"],["8","(\\d{3})(\\d{3})(\\d{3,4})","\\1 \\2 \\3"]],"49":[["3[02]|40|[68]9","(\\d{2})(\\d{3,13})","0\\1 \\2"],["2277","(\\d{6})","\\1"],["2(?:0[1-389]|12[0-8])|3(?:[35-9][15]|4[015])|906|2(?:[13][14]|2[18])|(?:2[4-9]|4[2-9]|[579][1-9]|[68][1-8])1","(\\d{3})(\\d{3,12})","0\\1 \\2"],["[24-6]|3(?:3(?:0[1-467]|2[127-9]|3[124578]|7[1257-9]|8[1256]|9[145])|4(?:2[135]|4[13578]|9[1346])|5(?:0[14]|2[1-3589]|6[1-4]|7[13468]|8[13568])|6(?:2[1-489]|3[124-6]|6[13]|7[12579]|8[1-356]|9[135])|7(?:2[1-7]|4[145]|6[1-5]|7[1-4])|8(?:21|3[1468]|6|7[1467]|8[136])|9(?:0[12479]|2[1358]|4[134679]|6[1-9]|7[136]|8[147]|9[1468]))|70[2-8]|8(?:0[2-9]|[1-8])|90[7-9]|[79][1-9]|3[68]4[1347]|3(?:47|60)[1356]|3(?:3[46]|46|5[49])[1246]|3[4579]3[1357]","(\\d{4})(\\d{2,11})","0\\1 \\2"],["138","(\\d{3})(\\d{4})","0\\1 \\2"],["3","(\\d{5})(\\d{2,10})","0\\1 \\2"],["181","(\\d{3})(\\d{5,11})","0\\1 \\2"],["1(?:3|80)|9","(\\d{3})(\\d)(\\d{4,10})","0\\1 \\2 \\3"],["1[67]","(\\d{3})(\\d{7,8})","0\\1 \\2"],["8","(\\d{3})(\\d{7,12})","0\\1 \\2"],["18500","(\\d{5})(\\d{6})","0\\1 \\2"],["7","(\\d{3})(\\d{4})(\\d{4})","0\\1 \\2 \\3"],["18[68]","(\\d{4})(\\d{7})","0\\1 \\2"],["15[1279]","(\\d{4})(\\d{7})","0\\1 \\2"],["15(?:[0568]|3[13]|41)","(\\d{5})(\\d{6})","0\\1 \\2"],["18","(\\d{3})(\\d{8})","0\\1 \\2"],["1(?:6[023]|7)","(\\d{3})(\\d{2})(\\d{7,8})","0\\1 \\2 \\3"],["15[279]","(\\d{4})(\\d{2})(\\d{7})","0\\1 \\2 \\3"],["15","(\\d{3})(\\d{2})(\\d{8})","0\\1 \\2 \\3"]],"500":[],"501":[["[2-8]","(\\d{3})(\\d{4})","\\1-\\2"],["0","(\\d)(\\d{3})(\\d{4})(\\d{3})","\\1-\\2-\\3-\\4"]],"502":[["[2-8]","(\\d{4})(\\d{4})","\\1 \\2"],["1","(\\d{4})(\\d{3})(\\d{4})","\\1 \\2 \\3"]],"503":[["[89]","(\\d{3})(\\d{4})","\\1 \\2"],["[25-7]","(\\d{4})(\\d{4})","\\1 \\2"],["[89]","(\\d{3})(\\d{4})(\\d{4})","\\1 \\2 \\3"]],"504":[["[237-9]","(\\d{4})(\\d{4})","\\1-\\2"],["8","(\\d{3})(\\d{4})(\\d{4})","\\1 \\2 \\3"]],"505":[["[125-8]","(\\d{4})(\\d{4})","\\1 \\2"]],"506":[["[2-7]|8[3-9]","(\\d{4})(\\d{4})","\\1 \\2"],["[89]","(\\d{3})(\\d{3})(\\d{4})","\\1-\\2-\\3"]],"507":[["[1-57-9]","(\\d{3})(\\d{4})","\\1-\\2"],["[68]","(\\d{4})(\\d{4})","\\1-\\2"],["8","(\\d{3})(\\d{3})(\\d{4})","\\1 \\2 \\3"]],"508":[["[2-9]","(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3"],["7","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["8","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"]],"509":[["[2-589]","(\\d{2})(\\d{2})(\\d{4})","\\1 \\2 \\3"]],"51":[["80","(\\d{3})(\\d{5})","(0\\1) \\2"],["1","(\\d)(\\d{7})","(0\\1) \\2"],["[4-8]","(\\d{2})(\\d{6})","(0\\1) \\2"],["9","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"52":[["53","(\\d{5})","\\1"],["33|5[56]|81","(\\d{2})(\\d{4})(\\d{4})","\\1 \\2 \\3"],["[2-9]","(\\d{3})(\\d{3})(\\d{4})","\\1 \\2 \\3"]],"53":[["2[1-4]|[34]","(\\d{2})(\\d{4,6})","(0\\1) \\2"],["7","(\\d)(\\d{6,7})","(0\\1) \\2"],["[56]","(\\d)(\\d{7})","0\\1 \\2"],["8","(\\d{3})(\\d{7})","0\\1 \\2"]],"54":[["0|1(?:0[0-35-7]|1[02-5]|2[015]|3[47]|4[478])|911","(\\d{3})","\\1"],["[1-9]","(\\d{2})(\\d{4})","\\1-\\2"],["[2-9]","(\\d{3})(\\d{4})","\\1-\\2"],["[1-8]","(\\d{4})(\\d{4})","\\1-\\2"],["2(?:[23]02|6(?:[25]|4(?:64|[78]))|9(?:[02356]|4(?:[0268]|5[2-6])|72|8[23]))|3(?:3[28]|4(?:[04679]|3(?:5(?:4[0-25689]|[56])|[78])|58|8[2379])|5(?:[2467]|3[237]|8(?:[23]|4(?:[45]|60)|5(?:4[0-39]|5|64)))|7[1-578]|8(?:[2469]|3[278]|54(?:4|5[13-7]|6[89])|86[3-6]))|2(?:2[24-9]|3[1-59]|47)|38(?:[58][78]|7[378])|3(?:454|85[56])[46]|3(?:4(?:36|5[56])|8(?:[38]5|76))[4-6]","(\\d{4})(\\d{2})(\\d{4})","0\\1 \\2-\\3"],["1","(\\d{2})(\\d{4})(\\d{4})","0\\1 \\2-\\3"],["[68]","(\\d{3})(\\d{3})(\\d{4})","0\\1-\\2-\\3"],["[23]","(\\d{3})(\\d{3})(\\d{4})","0\\1 \\2-\\3"],["9(?:2(?:[23]02|6(?:[25]|4(?:64|[78]))|9(?:[02356]|4(?:[0268]|5[2-6])|72|8[23]))|3(?:3[28]|4(?:[04679]|3(?:5(?:4[0-25689]|[56])|[78])|5(?:4[46]|8)|8[2379])|5(?:[2467]|3[237]|8(?:[23]|4(?:[45]|60)|5(?:4[0-39]|5|64)))|7[1-578]|8(?:[2469]|3[278]|5(?:4(?:4|5[13-7]|6[89])|[56][46]|[78])|7[378]|8(?:6[3-6]|[78]))))|92(?:2[24-9]|3[1-59]|47)|93(?:4(?:36|5[56])|8(?:[38]5|76))[4-6]","(\\d)(\\d{4})(\\d{2})(\\d{4})","0\\2 15-\\3-\\4"],["91","(\\d)(\\d{2})(\\d{4})(\\d{4})","0\\2 15-\\3-\\4"],["8","(\\d{3})(\\d{3})(\\d{5})","0\\1-\\2-\\3"],["9","(\\d)(\\d{3})(\\d{3})(\\d{4})","0\\2 15-\\3-\\4"]],"55":[["1(?:1[25-8]|2[357-9]|3[02-68]|4[12568]|5|6[0-8]|8[015]|9[0-47-9])|321|610","(\\d{3,6})","\\1"],["300|4(?:0(?:0|20)|370|864)","(\\d{4})(\\d{4})","\\1-\\2"],["[2357]|4(?:[0-24-9]|3(?:[0-689]|7[1-9]))","(\\d{4})(\\d{4})","\\1-\\2"],["(?:[358]|90)0","(\\d{3})(\\d{2,3})(\\d{4})","0\\1 \\2 \\3"],["9","(\\d{5})(\\d{4})","\\1-\\2"],["(?:[14689][1-9]|2[12478]|3[1-578]|5[13-5]|7[13-579])[2-57]","(\\d{2})(\\d{4})(\\d{4})","(\\1) \\2-\\3"],["[16][1-9]|[2-57-9]","(\\d{2})(\\d{5})(\\d{4})","(\\1) \\2-\\3"]],"56":[["1(?:[03-589]|21)|[29]0|78","(\\d{4})","\\1"],["2196","(\\d{5})(\\d{4})","(\\1) \\2"],["60|809","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["44","(\\d{2})(\\d{3})(\\d{4})","\\1 \\2 \\3"],["2[1-36]","(\\d)(\\d{4})(\\d{4})","(\\1) \\2 \\3"],["9(?:10|[2-9])","(\\d)(\\d{4})(\\d{4})","\\1 \\2 \\3"],["3[2-5]|[47]|5[1-3578]|6[13-57]|8(?:0[1-8]|[1-9])","(\\d{2})(\\d{3})(\\d{4})","(\\1) \\2 \\3"],["60|8","(\\d{3})(\\d{3})(\\d{3,4})","\\1 \\2 \\3"],["1","(\\d{4})(\\d{3})(\\d{4})","\\1 \\2 \\3"],["60","(\\d{3})(\\d{3})(\\d{2})(\\d{3})","\\1 \\2 \\3 \\4"]],"57":[["46","(\\d{4})(\\d{4})","\\1 \\2"],["6|90","(\\d{3})(\\d{7})","(\\1) \\2"],["3[0-357]|94","(\\d{3})(\\d{7})","\\1 \\2"],["1","(\\d)(\\d{3})(\\d{7})","0\\1-\\2-\\3"]],"58":[["[24-689]","(\\d{3})(\\d{7})","0\\1-\\2"]],"590":[["[5-79]|80[6-9]","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"],["8","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"]],"591":[["[23]|4[46]|50","(\\d)(\\d{7})","\\1 \\2"],["[5-7]","(\\d{8})","\\1"],["8","(\\d{3})(\\d{2})(\\d{4})","\\1 \\2 \\3"]],"592":[["[2-9]","(\\d{3})(\\d{4})","\\1 \\2"]],"593":[["[2-7]","(\\d{3})(\\d{4})","\\1-\\2"],["[2-7]","(\\d)(\\d{3})(\\d{4})","(0\\1) \\2-\\3"],["9","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["1","(\\d{4})(\\d{3})(\\d{3,4})","\\1 \\2 \\3"]],"594":[["[5-7]|80[6-9]|9[47]","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"],["[89]","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"]],"595":[["[125]|4[01]","(\\d{6,7})","\\1"],["[2-9]0","(\\d{3})(\\d{3,6})","0\\1 \\2"],["3[289]|4[246-8]|61|7[1-3]|8[1-36]","(\\d{2})(\\d{5})","(0\\1) \\2"],["2[279]|3[13-5]|4[359]|5|6(?:[34]|7[1-46-8])|7[46-8]|85","(\\d{3})(\\d{4,5})","(0\\1) \\2"],["2[14-68]|3[26-9]|4[1246-8]|6(?:1|75)|7[1-35]|8[1-36]","(\\d{2})(\\d{3})(\\d{3,4})","(0\\1) \\2 \\3"],["87","(\\d{2})(\\d{3})(\\d{4})","\\1 \\2 \\3"],["9(?:[5-79]|8[1-8])","(\\d{3})(\\d{6})","0\\1 \\2"],["[2-8]","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["9","(\\d{4})(\\d{3})(\\d{4})","\\1 \\2 \\3"]],"596":[["[5-79]|8(?:0[6-9]|[36])","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"],["8","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"]],"597":[["56","(\\d{2})(\\d{2})(\\d{2})","\\1-\\2-\\3"],["[2-5]","(\\d{3})(\\d{3})","\\1-\\2"],["[6-9]","(\\d{3})(\\d{4})","\\1-\\2"]],"598":[["21","(\\d{4,5})","\\1"],["0","(\\d{3})(\\d{3,4})","\\1 \\2"],["[49]0|8","(\\d{3})(\\d{4})","0\\1 \\2"],["9","(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[124]","(\\d{4})(\\d{4})","\\1 \\2"],["0","(\\d{3})(\\d{3})(\\d{2,4})","\\1 \\2 \\3"],["0","(\\d{3})(\\d{3})(\\d{3})(\\d{2,4})","\\1 \\2 \\3 \\4"]],"599":[["[3467]","(\\d{3})(\\d{4})","\\1 \\2"],["9[4-8]","(\\d)(\\d{3})(\\d{4})","\\1 \\2 \\3"]],"60":[["[4-79]","(\\d)(\\d{3})(\\d{4})","0\\1-\\2 \\3"],["1(?:[02469]|[37][1-9]|53|8(?:[1-46-9]|5[7-9]))|8","(\\d{2})(\\d{3})(\\d{3,4})","0\\1-\\2 \\3"],["3","(\\d)(\\d{4})(\\d{4})","0\\1-\\2 \\3"],["1(?:[367]|80)","(\\d)(\\d{3})(\\d{2})(\\d{4})","\\1-\\2-\\3-\\4"],["15","(\\d{3})(\\d{3})(\\d{4})","0\\1-\\2 \\3"],["1","(\\d{2})(\\d{4})(\\d{4})","0\\1-\\2 \\3"]],"61":[["16","(\\d{2})(\\d{3,4})","0\\1 \\2"],["13","(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3"],["19","(\\d{3})(\\d{3})","\\1 \\2"],["1802","(\\d{3})(\\d{4})","\\1 \\2"],["19","(\\d{4})(\\d{3,4})","\\1 \\2"],["16","(\\d{2})(\\d{3})(\\d{2,4})","0\\1 \\2 \\3"],["14|4","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[2378]","(\\d)(\\d{4})(\\d{4})","(0\\1) \\2 \\3"],["1(?:30|[89])","(\\d{4})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["130","(\\d{4})(\\d{4})(\\d{4})","\\1 \\2 \\3"]],"62":[["15","(\\d)(\\d{3})(\\d{3})","\\1 \\2 \\3"],["2[124]|[36]1","(\\d{2})(\\d{5,9})","(0\\1) \\2"],["800","(\\d{3})(\\d{5,7})","0\\1 \\2"],["[2-79]","(\\d{3})(\\d{5,8})","(0\\1) \\2"],["8[1-35-9]","(\\d{3})(\\d{3,4})(\\d{3})","0\\1-\\2-\\3"],["1","(\\d{3})(\\d{6,8})","0\\1 \\2"],["804","(\\d{3})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["80","(\\d{3})(\\d)(\\d{3})(\\d{3})","0\\1 \\2 \\3 \\4"],["8","(\\d{3})(\\d{4})(\\d{4,5})","0\\1-\\2-\\3"],["001","(\\d{3})(\\d{3})(\\d{3})(\\d{2,8})","\\1 \\2 \\3 \\4"],["0","(\\d{2})(\\d{4})(\\d{3})(\\d{4})","\\1 \\2 \\3 \\4"]],"63":[["2","(\\d)(\\d{5})","(0\\1) \\2"],["3(?:230|397|461)|4(?:2(?:35|[46]4|51)|396|4(?:22|63)|59[347]|76[15])|5(?:221|446)|642[23]|8(?:622|8(?:[24]2|5[13]))","(\\d{4})(\\d{4,6})","(0\\1) \\2"],["3469|4(?:279|9(?:30|56))|8834","(\\d{5})(\\d{4})","(0\\1) \\2"],["2","(\\d)(\\d{4})(\\d{4})","(0\\1) \\2 \\3"],["[3-7]|8[2-8]","(\\d{2})(\\d{3})(\\d{4})","(0\\1) \\2 \\3"],["[89]","(\\d{3})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["1","(\\d{4})(\\d{3})(\\d{4})","\\1 \\2 \\3"],["1","(\\d{4})(\\d{1,2})(\\d{3})(\\d{4})","\\1 \\2 \\3 \\4"]],"64":[["8[1-79]","(\\d{2})(\\d{3,8})","0\\1 \\2"],["50(?:[0367]|88)|8|90","(\\d{3})(\\d{2})(\\d{2,3})","0\\1 \\2 \\3"],["24|[346]|7[2-57-9]|9[2-9]","(\\d)(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["2(?:10|74)|[589]","(\\d{3})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["1|2[028]","(\\d{2})(\\d{3,4})(\\d{4})","0\\1 \\2 \\3"],["2(?:[169]|7[0-35-9])|7","(\\d{2})(\\d{3})(\\d{3,5})","0\\1 \\2 \\3"]],"65":[["1(?:[013-8]|9(?:0[1-9]|[1-9]))|77","(\\d{4,5})","\\1"],["[369]|8(?:0[1-9]|[1-9])","(\\d{4})(\\d{4})","\\1 \\2"],["8","(\\d{3})(\\d{3})(\\d{4})","\\1 \\2 \\3"],["7","(\\d{4})(\\d{4})(\\d{3})","\\1 \\2 \\3"],["1","(\\d{4})(\\d{3})(\\d{4})","\\1 \\2 \\3"]],"66":[["2","(\\d)(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["[13-9]","(\\d{2})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["1","(\\d{4})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"670":[["[2-489]|70","(\\d{3})(\\d{4})","\\1 \\2"],["7","(\\d{4})(\\d{4})","\\1 \\2"]],"672":[["1[0-3]","(\\d{2})(\\d{4})","\\1 \\2"],["[13]","(\\d)(\\d{5})","\\1 \\2"]],"673":[["[2-578]","(\\d{3})(\\d{4})","\\1 \\2"]],"674":[["[24-9]","(\\d{3})(\\d{4})","\\1 \\2"]],"675":[["18|[2-69]|85[02-46-9]","(\\d{3})(\\d{4})","\\1 \\2"],["[78]","(\\d{4})(\\d{4})","\\1 \\2"]],"676":[["[2-4]|50|6[09]|7[0-24-69]|8[05]","(\\d{2})(\\d{3})","\\1-\\2"],["0","(\\d{4})(\\d{3})","\\1 \\2"],["[5-9]","(\\d{3})(\\d{4})","\\1 \\2"]],"677":[["6[89]|7|8[4-9]|9(?:[0-8]|9[0-8])","(\\d{2})(\\d{5})","\\1 \\2"]],"678":[["[57-9]","(\\d{3})(\\d{4})","\\1 \\2"]],"679":[["[235-9]|45","(\\d{3})(\\d{4})","\\1 \\2"],["0","(\\d{4})(\\d{3})(\\d{4})","\\1 \\2 \\3"]],"680":[["[2-9]","(\\d{3})(\\d{4})","\\1 \\2"]],"681":[["[47-9]","(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3"],["8","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"682":[["[2-578]","(\\d{2})(\\d{3})","\\1 \\2"]],"683":[["8","(\\d{3})(\\d{4})","\\1 \\2"]],"685":[["[2-5]|6[1-9]","(\\d{5})","\\1"],["[68]","(\\d{3})(\\d{3,7})","\\1 \\2"],["7","(\\d{2})(\\d{5})","\\1 \\2"]],"686":[],"687":[["5[6-8]","(\\d{3})","\\1"],["[02-57-9]","(\\d{2})(\\d{2})(\\d{2})","\\1.\\2.\\3"]],"688":[["2","(\\d{2})(\\d{3})","\\1 \\2"],["90","(\\d{2})(\\d{4})","\\1 \\2"],["7","(\\d{2})(\\d{5})","\\1 \\2"]],"689":[["44","(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3"],["4|8[7-9]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"],["8","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"690":[],"691":[["[389]","(\\d{3})(\\d{4})","\\1 \\2"]],"692":[["[2-6]","(\\d{3})(\\d{4})","\\1-\\2"]],"7":[["[0-79]","(\\d{3})(\\d{2})(\\d{2})","\\1-\\2-\\3"],["7(?:1(?:[0-356]2|4[29]|7|8[27])|2(?:13[03-69]|62[013-9]))|72[1-57-9]2","(\\d{4})(\\d{2})(\\d{2})(\\d{2})","8 (\\1) \\2 \\3 \\4"],["7(?:1(?:0(?:[356]|4[023])|[18]|2(?:3[013-9]|5)|3[45]|43[013-79]|5(?:3[1-8]|4[1-7]|5)|6(?:3[0-35-9]|[4-6]))|2(?:1(?:3[178]|[45])|[24-689]|3[35]|7[457]))|7(?:14|23)4[0-8]|71(?:33|45)[1-79]","(\\d{5})(\\d)(\\d{2})(\\d{2})","8 (\\1) \\2 \\3 \\4"],["7","(\\d{3})(\\d{3})(\\d{4})","8 (\\1) \\2 \\3"],["[349]|8(?:[02-7]|1[1-8])","(\\d{3})(\\d{3})(\\d{2})(\\d{2})","8 (\\1) \\2-\\3-\\4"],["8","(\\d{4})(\\d{4})(\\d{3})(\\d{3})","8 (\\1) \\2 \\3 \\4"]],"800":[["\\d","(\\d{4})(\\d{4})","\\1 \\2"]],"808":[["[1-9]","(\\d{4})(\\d{4})","\\1 \\2"]],"81":[["00777[01]","(\\d{4})(\\d{4})","\\1-\\2"],["000","(\\d{8,10})","\\1"],["(?:12|57|99)0","(\\d{3})(\\d{3})(\\d{3})","0\\1-\\2-\\3"],["1(?:267|3(?:7[247]|9[278])|466|5(?:47|58|64)|6(?:3[245]|48|5[4-68]))|499[2468]|5(?:769|979[2-69])|7468|8(?:3(?:8[7-9]|96[2457-9])|477|51[2-9])|9(?:802|9(?:1[23]|69))|1(?:45|58)[67]","(\\d{4})(\\d)(\\d{4})","0\\1-\\2-\\3"],["60","(\\d{2})(\\d{3})(\\d{4})","0\\1-\\2-\\3"],["3|4(?:2(?:0|9[02-69])|7(?:0[019]|1))|6[1-9]","(\\d)(\\d{4})(\\d{4})","0\\1-\\2-\\3"],["1(?:1|5(?:4[018]|5[017])|77|88|9[69])|2(?:2[127]|3[0-269]|4[59]|5(?:[1-3]|5[0-69]|9(?:17|99))|6(?:2|4[016-9])|7(?:[1-35]|8[0189])|8(?:[16]|3[0134]|9[0-5])|9(?:[028]|17))|4(?:2(?:[13-79]|8[014-6])|3[0-57]|[45]|6[248]|7[2-47]|9[29])|5(?:2|3(?:[045]|9(?:[0-58]|6[4-9]|7[0-35689]))|4[0-369]|5[29]|8[02389]|9[0-3])|7(?:2[02-46-9]|34|[58]|6[0249]|7[57]|9(?:[23]|4[0-59]|5[01569]|6[0167]))|8(?:2(?:[1258]|4[0-39]|9[0169])|3(?:[29]|60|7(?:[017-9]|6[6-8]))|49|51|6(?:[0-24]|36[2-57-9]|5(?:[0-389]|5[23])|6(?:[01]|9[178])|7(?:2[2-468]|3[78])|9[0145])|7[0-468]|8[68])|9(?:4[15]|5[138]|7[156]|8[189]|9(?:[1289]|3(?:31|4[357])|4[0178]))|(?:8294|96)[1-3]|2(?:57|93)[015-9]|(?:223|8699)[014-9]|(?:25[0468]|422|838)[01]|(?:48|8292|9[23])[1-9]|(?:47[59]|59[89]|8(?:68|9))[019]","(\\d{2})(\\d{3})(\\d{4})","0\\1-\\2-\\3"],["[14]|[289][2-9]|5[3-9]|7[2-4679]","(\\d{3})(\\d{2})(\\d{4})","0\\1-\\2-\\3"],["0077","(\\d{4})(\\d{2})(\\d{3,4})","\\1-\\2-\\3"],["008","(\\d{4})(\\d{2})(\\d{4})","\\1-\\2-\\3"],["800","(\\d{3})(\\d{3})(\\d{4})","0\\1-\\2-\\3"],["[25-9]","(\\d{2})(\\d{4})(\\d{4})","0\\1-\\2-\\3"],["0","(\\d{4})(\\d{3})(\\d{3,4})","\\1-\\2-\\3"],["0","(\\d{4})(\\d{4})(\\d{4,5})","\\1-\\2-\\3"],["0","(\\d{4})(\\d{5})(\\d{5,6})","\\1-\\2-\\3"],["0","(\\d{4})(\\d{6})(\\d{6,7})","\\1-\\2-\\3"]],"82":[["1[016-9]114","(\\d{5})","0\\1"],["(?:3[1-3]|[46][1-4]|5[1-5])1","(\\d{2})(\\d{3,4})","0\\1-\\2"],["1","(\\d{4})(\\d{4})","\\1-\\2"],["2","(\\d)(\\d{3,4})(\\d{4})","0\\1-\\2-\\3"],["[36]0|8","(\\d{2})(\\d{3})(\\d{4})","0\\1-\\2-\\3"],["[1346]|5[1-5]","(\\d{2})(\\d{3,4})(\\d{4})","0\\1-\\2-\\3"],["[57]","(\\d{2})(\\d{4})(\\d{4})","0\\1-\\2-\\3"],["0030","(\\d{5})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["5","(\\d{2})(\\d{5})(\\d{4})","0\\1-\\2-\\3"],["0","(\\d{5})(\\d{3,4})(\\d{4})","\\1 \\2 \\3"],["0","(\\d{5})(\\d{2})(\\d{3})(\\d{4})","\\1 \\2 \\3 \\4"]],"84":[["[17]99","(\\d{3})(\\d{4})","0\\1 \\2"],["69","(\\d{3})(\\d{4,5})","0\\1 \\2"],["1(?:2[02]|[89])","(\\d{4})(\\d{4,6})","\\1 \\2"],["1[26]|6","(\\d{2})(\\d{3})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"],["[1357-9]","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["2[48]","(\\d{2})(\\d{4})(\\d{4})","0\\1 \\2 \\3"],["2","(\\d{3})(\\d{4})(\\d{3})","0\\1 \\2 \\3"]],"850":[["8","(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[2-7]","(\\d)(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["1","(\\d{3})(\\d{3})(\\d{4})","0\\1 \\2 \\3"]],"852":[["9003","(\\d{3})(\\d{2,5})","\\1 \\2"],["[2-7]|8[1-4]|9(?:0[1-9]|[1-8])","(\\d{4})(\\d{4})","\\1 \\2"],["8","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["9","(\\d{3})(\\d{2})(\\d{3})(\\d{3})","\\1 \\2 \\3 \\4"]],"853":[["0","(\\d{4})(\\d{3})","\\1 \\2"],["[268]","(\\d{4})(\\d{4})","\\1 \\2"]],"855":[["[1-9]","(\\d{2})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["1","(\\d{4})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"856":[["2[13]|3[14]|[4-8]","(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["3","(\\d{2})(\\d{2})(\\d{2})(\\d{3})","0\\1 \\2 \\3 \\4"],["2","(\\d{2})(\\d{2})(\\d{3})(\\d{3})","0\\1 \\2 \\3 \\4"]],"86":[["1(?:00|2(?:1|395))|9[56]","(\\d{5,6})","\\1"],["[1-9]123","(\\d{5,6})","\\1"],["10100","(\\d{2})(\\d{5})","0\\1 \\2"],["10(?:123|9[56])|2[0-57-9](?:1(?:00|23)|9[56])|(?:3(?:[15]\\d|35|49|7[0-79]|9[1-68])|4(?:1[125-9]|2[179]|[35][1-9]|6[47-9]|7\\d|8[23])|5(?:[1357]\\d|2[37]|4[36]|6[1-46]|80|9[1-9])|6(?:3[1-35]|6[0238]|9[12])|7(?:01|[1579]\\d|2[248]|3[014-9]|4[3-6]|6[023689])|8(?:1[236-8]|2[5-7]|[37]\\d|5[14-9]|8[36-8]|9[1-8])|9(?:0[1-3689]|1[1-79]|3\\d|4[13]|5[1-5]|7[0-79]|9[0-35-9]))123","(\\d{2})(\\d{5,6})","0\\1 \\2"],["1[1-9]|26|3(?:[0268]|3[0-46-9]|4[0-8]|78|9[079])|4(?:[049]|1[034]|2[02-68]|[35]0|6[0-356]|8[014-9])|5(?:0|2[0-24-689]|4[0-2457-9]|6[057-9]|8[1-9]|90)|6(?:[0-24578]|3[046-9]|6[14-79]|9[03-9])|7(?:0[02-9]|2[0135-79]|3[23]|4[0-27-9]|6[1457]|8)|8(?:[046]|1[01459]|2[0-489]|5[023]|8[0-2459]|9[09])|9(?:0[0457]|1[08]|[268]|4[024-9]|5[06-9]|78|94)|(?:10|2[0-57-9])(?:[02-8]|1(?:0[1-9]|[13-9]|2[0-24-9])|9[0-47-9])|(?:3(?:[15]\\d|35|49|7[0-79]|9[1-68])|4(?:1[125-9]|2[179]|[35][1-9]|6[47-9]|7\\d|8[23])|5(?:[1357]\\d|2[37]|4[36]|6[1-46]|80|9[1-9])|6(?:3[1-35]|6[0238]|9[12])|7(?:01|[1579]\\d|2[248]|3[014-9]|4[3-6]|6[023689])|8(?:1[236-8]|2[5-7]|[37]\\d|5[14-9]|8[36-8]|9[1-8])|9(?:0[1-3689]|1[1-79]|3\\d|4[13]|5[1-5]|7[0-79]|9[0-35-9]))(?:[02-9]|1(?:[013-9]|2[0-24-9]))","(\\d{3})(\\d{4})","\\1 \\2"],["1010","(\\d{4})(\\d{4})","\\1 \\2"],["16[08]","(\\d{4})(\\d{4})","\\1 \\2"],["106(?:[268]|[39][0-49])","(\\d{8,9})","\\1"],["(?:3(?:[15]\\d|35|49|7[0-79]|9[1-68])|4(?:1[125-9]|2[179]|[35][1-9]|6[47-9]|7\\d|8[23])|5(?:[1357]\\d|2[37]|4[36]|6[1-46]|80|9[1-9])|6(?:3[1-35]|6[0238]|9[12])|7(?:01|[1579]\\d|2[248]|3[014-9]|4[3-6]|6[023689])|8(?:1[236-8]|2[5-7]|[37]\\d|5[14-9]|8[36-8]|9[1-8])|9(?:0[1-3689]|1[1-79]|[379]\\d|4[13]|5[1-5]))(?:100|9[56])","(\\d{3})(\\d{5,6})","0\\1 \\2"],["1(?:0(?:[02-578]|1[1-9]|6(?:[01457]|[39][5-8])|9[0-47-9])|[1-9])|2(?:[0-57-9](?:[0-8]|9[0-47-9])|6)|3(?:[0268]|3[0-46-9]|4[0-8]|78|9[079])|4(?:[049]|1[034]|2[02-68]|[35]0|6[0-356]|8[014-9])|5(?:0|2[0-24-689]|4[0-2457-9]|6[057-9]|8[1-9]|90)|6(?:[0-24578]|3[046-9]|6[14-79]|9[03-9])|7(?:0[02-9]|2[0135-79]|3[23]|4[0-27-9]|6[1457]|8)|8(?:[046]|1[01459]|2[0-489]|5[023]|8[0-2459]|9[09])|9(?:0[0457]|1[08]|[268]|4[024-9]|5[06-9])|(?:3(?:[15]\\d|35|49|7[0-79]|9[1-68])|4(?:1[125-9]|2[179]|[35][1-9]|6[47-9]|7\\d|8[23])|5(?:[1357]\\d|2[37]|4[36]|6[1-46]|80|9[1-9])|6(?:3[1-35]|6[0238]|9[12])|7(?:01|[1579]\\d|2[248]|3[014-9]|4[3-6]|6[023689])|8(?:1[236-8]|2[5-7]|[37]\\d|5[14-9]|8[36-8]|9[1-8])|9(?:0[1-3689]|1[1-79]|[379]\\d|4[13]|5[1-5]))(?:[02-8]|1(?:0[1-9]|[1-9])|9[0-47-9])","(\\d{4})(\\d{4})","\\1 \\2"],["[48]0","(\\d{3})(\\d{3})(\\d{4})","\\1 \\2 \\3"],["10[0-79]|2(?:[02-57-9]|1[1-79])|(?:10|21)8(?:0[1-9]|[1-9])","(\\d{2})(\\d{4})(\\d{4})","0\\1 \\2 \\3"],["3(?:[3-59]|7[02-6])|4(?:1[25-9]|[26-8]|3[3-9]|5[2-9])|5(?:3[03-9]|[468]|7[028]|9[2-46-9])|6|7(?:[0-247]|3[04-9]|5[0-4689]|6[2368])|8(?:[1-358]|9[1-7])|9(?:[013479]|5[1-5])|(?:31|55|79|87)[02-9]","(\\d{3})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["9","(\\d{3})(\\d{7,8})","\\1 \\2"],["[3-578]","(\\d{3})(\\d{4})(\\d{4})","0\\1 \\2 \\3"],["1[3-9]","(\\d{3})(\\d{4})(\\d{4})","\\1 \\2 \\3"],["106","(\\d{11,12})","\\1"],["[12]","(\\d{2})(\\d{3})(\\d{3})(\\d{4})","0\\1 \\2 \\3 \\4"]],"870":[["[235-7]","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"878":[["1","(\\d{2})(\\d{5})(\\d{5})","\\1 \\2 \\3"]],"880":[["31[5-8]|[459]1","(\\d{2})(\\d{4,6})","0\\1-\\2"],["3(?:[67]|8[013-9])|4(?:6[168]|7|[89][18])|5(?:6[128]|9)|6(?:[15]|28)|7[2-589]|8(?:0[014-9]|[12])|9[358]|(?:3[2-5]|4[235]|5[2-578]|6[0389]|76|8[3-7]|9[24])1|(?:44|66)[01346-9]","(\\d{3})(\\d{3,7})","0\\1-\\2"],["[13-9]|2[23]","(\\d{4})(\\d{3,6})","0\\1-\\2"],["2","(\\d)(\\d{7,8})","0\\1-\\2"]],"881":[["[0-37-9]","(\\d)(\\d{3})(\\d{5})","\\1 \\2 \\3"],["6","(\\d)(\\d{3})(\\d{5,6})","\\1 \\2 \\3"]],"882":[["16|342","(\\d{2})(\\d{5})","\\1 \\2"],["49","(\\d{2})(\\d{6})","\\1 \\2"],["1[36]|9","(\\d{2})(\\d{2})(\\d{4})","\\1 \\2 \\3"],["3[23]","(\\d{2})(\\d{4})(\\d{3})","\\1 \\2 \\3"],["16","(\\d{2})(\\d{3,4})(\\d{4})","\\1 \\2 \\3"],["10|23|3(?:[15]|4[57])|4|5[12]","(\\d{2})(\\d{4})(\\d{4})","\\1 \\2 \\3"],["34","(\\d{3})(\\d{4})(\\d{4})","\\1 \\2 \\3"],["[1-35]","(\\d{2})(\\d{4,5})(\\d{5})","\\1 \\2 \\3"]],"883":[["[14]|2[24-689]|3[02-689]|51[24-9]","(\\d{3})(\\d{3})(\\d{2,8})","\\1 \\2 \\3"],["510","(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3"],["21","(\\d{3})(\\d{3})(\\d{4})","\\1 \\2 \\3"],["51[13]","(\\d{4})(\\d{4})(\\d{4})","\\1 \\2 \\3"],["[235]","(\\d{3})(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3 \\4"]],"886":[["202","(\\d{2})(\\d)(\\d{4})","0\\1 \\2 \\3"],["826","(\\d{3})(\\d{5})","0\\1 \\2"],["83","(\\d{3})(\\d{2})(\\d{3})","0\\1 \\2 \\3"],["82","(\\d{2})(\\d{2})(\\d{4})","0\\1 \\2 \\3"],["[25]0|37|49|8[09]","(\\d{2})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["[23568]|4(?:0[2-48]|[1-478])|(?:400|7)[1-9]","(\\d)(\\d{3,4})(\\d{4})","0\\1 \\2 \\3"],["[49]","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["7","(\\d{2})(\\d{4})(\\d{4,5})","0\\1 \\2 \\3"]],"888":[[null,"(\\d{3})(\\d{3})(\\d{5})","\\1 \\2 \\3"]],"90":[["444","(\\d{3})(\\d)(\\d{3})","\\1 \\2 \\3"],["512|8[01589]|90","(\\d{3})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["5","(\\d{3})(\\d{3})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"],["[24][1-8]|3[1-9]","(\\d{3})(\\d{3})(\\d{2})(\\d{2})","(0\\1) \\2 \\3 \\4"],["80","(\\d{3})(\\d{3})(\\d{6,7})","0\\1 \\2 \\3"]],"91":[["575","(\\d{7})","\\1"],["5(?:0|2(?:21|3)|3(?:0|3[23])|616|717|8888)","(\\d{8})","\\1"],["1800","(\\d{4})(\\d{4,5})","\\1 \\2"],["140","(\\d{3})(\\d{3})(\\d{4})","\\1 \\2 \\3"],["11|2[02]|33|4[04]|79(?:[1245]|3(?:[02-9]|1[0-24-9]))|80(?:[2-4]|6[0-589])","(\\d{2})(\\d{4})(\\d{4})","0\\1 \\2 \\3"],["1(?:2[0-24]|3[0-25]|4[145]|[59][14]|6[1-9]|7[1257]|8[1-57-9])|2(?:1[257]|3[013]|4[01]|5[0137]|6[058]|78|8[1568]|9[14])|3(?:26|4[1-3]|5[34]|6[01489]|7[02-46]|8[159])|4(?:1[36]|2[1-47]|3[15]|5[12]|6[0-26-9]|7[0-24-9]|8[013-57]|9[014-7])|5(?:1[025]|22|[36][25]|4[28]|[578]1|9[15])|6(?:12(?:[2-6]|7[0-8])|74[2-7])|7(?:3171|5[15][2-6]|61[346]|88(?:[2-7]|82))|8(?:70[2-6]|84(?:[2356]|7[19])|91(?:[3-6]|7[19]))|73[134][2-6]|8(?:16|2[014]|3[126]|6[136]|7[78]|83)(?:[2-6]|7[19])|(?:1(?:29|60|8[06])|261|552|6(?:[2-4]1|5[17]|6[13]|7(?:1|4[0189])|80)|7(?:12|88[01]))[2-7]","(\\d{3})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["1(?:[2-479]|5(?:[0236-9]|5[013-9]))|[2-5]|6(?:2(?:84|95)|355|8(?:28[235-7]|3))|73179|807(?:1|9[1-3])|(?:1552|6(?:(?:1[1358]|2[2457]|3[2-4]|4[235-7]|5[2-689]|6[24578])\\d|7(?:[23569]\\d|8[0-57-9])|8(?:[14-6]\\d|2[0-79]))|7(?:1(?:[013-8]\\d|9[6-9])|3(?:2[0-49]|9[2-57])|5(?:2[1-3]|9[0-6])|6(?:0[5689]|2[5-9]|3[02-8]|4\\d|5[0-367])|70[13-7]))[2-7]","(\\d{4})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["16|[6-9]","(\\d{5})(\\d{5})","0\\1 \\2"],["18[06]0","(\\d{4})(\\d{2,4})(\\d{4})","\\1 \\2 \\3"],["0","(\\d{3})(\\d{3})(\\d{3})(\\d{4})","\\1 \\2 \\3 \\4"],["18","(\\d{4})(\\d{3})(\\d{3})(\\d{3})","\\1 \\2 \\3 \\4"]],"92":[["[89]0","(\\d{3})(\\d{3})(\\d{2,7})","0\\1 \\2 \\3"],["1","(\\d{4})(\\d{5})","\\1 \\2"],["9(?:2[3-8]|98)|(?:2(?:3[2358]|4[2-4]|9[2-8])|45[3479]|54[2-467]|60[468]|72[236]|8(?:2[2-689]|3[23578]|4[3478]|5[2356])|9(?:22|3[27-9]|4[2-6]|6[3569]|9[25-7]))[2-9]","(\\d{3})(\\d{6,7})","(0\\1) \\2"],["(?:2[125]|4[0-246-9]|5[1-35-7]|6[1-8]|7[14]|8[16]|91)[2-9]","(\\d{2})(\\d{7,8})","(0\\1) \\2"],["58","(\\d{5})(\\d{5})","(0\\1) \\2"],["3","(\\d{3})(\\d{7})","0\\1 \\2"],["2[125]|4[0-246-9]|5[1-35-7]|6[1-8]|7[14]|8[16]|91","(\\d{2})(\\d{3})(\\d{3})(\\d{3})","(0\\1) \\2 \\3 \\4"],["[24-9]","(\\d{3})(\\d{3})(\\d{3})(\\d{3})","(0\\1) \\2 \\3 \\4"]],"93":[["[1-9]","(\\d{3})(\\d{4})","\\1 \\2"],["[2-7]","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"]],"94":[["7","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["[1-689]","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"]],"95":[["16|2","(\\d)(\\d{2})(\\d{3})","0\\1 \\2 \\3"],["4(?:[2-46]|5[3-5])|5|6(?:[1-689]|7[235-7])|7(?:[0-4]|5[2-7])|8[1-5]|(?:60|86)[23]","(\\d{2})(\\d{2})(\\d{3})","0\\1 \\2 \\3"],["[12]|452|6788|86","(\\d)(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["[4-7]|8[1-35]","(\\d{2})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["9(?:2[0-4]|[35-9]|4[137-9])","(\\d)(\\d{3})(\\d{4,6})","0\\1 \\2 \\3"],["2","(\\d)(\\d{4})(\\d{4})","0\\1 \\2 \\3"],["8","(\\d{3})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["92","(\\d)(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3 \\4"],["9","(\\d)(\\d{5})(\\d{4})","0\\1 \\2 \\3"]],"960":[["[34679]","(\\d{3})(\\d{4})","\\1-\\2"],["[89]","(\\d{3})(\\d{3})(\\d{4})","\\1 \\2 \\3"]],"961":[["[13-69]|7(?:[2-57]|62|8[0-6]|9[04-9])|8[02-9]","(\\d)(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["[27-9]","(\\d{2})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"962":[["[2356]|87","(\\d)(\\d{3})(\\d{4})","(0\\1) \\2 \\3"],["[89]","(\\d{3})(\\d{5,6})","0\\1 \\2"],["70","(\\d{2})(\\d{7})","0\\1 \\2"],["[47]","(\\d)(\\d{4})(\\d{4})","0\\1 \\2 \\3"]],"963":[["[1-4]|5[1-3]","(\\d{2})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["[59]","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"]],"964":[["1","(\\d)(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["[2-6]","(\\d{2})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["7","(\\d{3})(\\d{3})(\\d{4})","0\\1 \\2 \\3"]],"965":[["[169]|2(?:[235]|4[1-35-9])|52","(\\d{4})(\\d{3,4})","\\1 \\2"],["[245]","(\\d{3})(\\d{5})","\\1 \\2"]],"966":[["9","(\\d{4})(\\d{5})","\\1 \\2"],["1","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["5","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["8","(\\d{3})(\\d{3})(\\d{4})","\\1 \\2 \\3"]],"967":[["[1-6]|7(?:[24-6]|8[0-7])","(\\d)(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["7","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"]],"968":[["[58]","(\\d{3})(\\d{4,6})","\\1 \\2"],["2","(\\d{2})(\\d{6})","\\1 \\2"],["[179]","(\\d{4})(\\d{4})","\\1 \\2"]],"970":[["[2489]","(\\d)(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["5","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["1","(\\d{4})(\\d{3})(\\d{3})","\\1 \\2 \\3"]],"971":[["60|8","(\\d{3})(\\d{2,9})","\\1 \\2"],["[236]|[479][2-8]","(\\d)(\\d{3})(\\d{4})","0\\1 \\2 \\3"],["[479]","(\\d{3})(\\d)(\\d{5})","\\1 \\2 \\3"],["5","(\\d{2})(\\d{3})(\\d{4})","0\\1 \\2 \\3"]],"972":[["125","(\\d{4})(\\d{3})","\\1-\\2"],["121","(\\d{4})(\\d{2})(\\d{2})","\\1-\\2-\\3"],["[2-489]","(\\d)(\\d{3})(\\d{4})","0\\1-\\2-\\3"],["[57]","(\\d{2})(\\d{3})(\\d{4})","0\\1-\\2-\\3"],["12","(\\d{4})(\\d{3})(\\d{3})","\\1-\\2-\\3"],["159","(\\d{4})(\\d{6})","\\1-\\2"],["1[7-9]","(\\d)(\\d{3})(\\d{3})(\\d{3})","\\1-\\2-\\3-\\4"],["15","(\\d{3})(\\d{1,2})(\\d{3})(\\d{4})","\\1-\\2 \\3-\\4"]],"973":[["[13679]|8[02-4679]","(\\d{4})(\\d{4})","\\1 \\2"]],"974":[["2[136]|8","(\\d{3})(\\d{4})","\\1 \\2"],["[3-7]","(\\d{4})(\\d{4})","\\1 \\2"]],"975":[["[2-7]","(\\d{3})(\\d{3})","\\1 \\2"],["[2-6]|7[246]|8[2-4]","(\\d)(\\d{3})(\\d{3})","\\1 \\2 \\3"],["1[67]|[78]","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]],"976":[["11|2[16]","(\\d{2})(\\d{2})(\\d{4})","0\\1 \\2 \\3"],["[5-9]","(\\d{4})(\\d{4})","\\1 \\2"],["[12]2[1-3]","(\\d{3})(\\d{5,6})","0\\1 \\2"],["[12](?:27|3[2-8]|4[2-68]|5[1-4689])[0-3]","(\\d{4})(\\d{5,6})","0\\1 \\2"],["[12]","(\\d{5})(\\d{4,5})","0\\1 \\2"]],"977":[["1[2-6]","(\\d)(\\d{7})","0\\1-\\2"],["1[01]|[2-8]|9(?:[1-59]|[67][2-6])","(\\d{2})(\\d{6})","0\\1-\\2"],["9","(\\d{3})(\\d{7})","\\1-\\2"],["1","(\\d{4})(\\d{2})(\\d{5})","\\1-\\2-\\3"]],"979":[["[1359]","(\\d)(\\d{4})(\\d{4})","\\1 \\2 \\3"]],"98":[["96","(\\d{4,5})","0\\1"],["(?:1[137]|2[13-68]|3[1458]|4[145]|5[1468]|6[16]|7[1467]|8[13467])[12689]","(\\d{2})(\\d{4,5})","0\\1 \\2"],["9","(\\d{3})(\\d{3})(\\d{3,4})","0\\1 \\2 \\3"],["[1-8]","(\\d{2})(\\d{4})(\\d{4})","0\\1 \\2 \\3"]],"992":[["3317","(\\d{6})(\\d)(\\d{2})","\\1 \\2 \\3"],["44[02-479]|[34]7","(\\d{3})(\\d{2})(\\d{4})","\\1 \\2 \\3"],["3(?:[1245]|3[12])","(\\d{4})(\\d)(\\d{4})","\\1 \\2 \\3"],["\\d","(\\d{2})(\\d{3})(\\d{4})","\\1 \\2 \\3"]],"993":[["12","(\\d{2})(\\d{2})(\\d{2})(\\d{2})","(8 \\1) \\2-\\3-\\4"],["[1-5]","(\\d{3})(\\d)(\\d{2})(\\d{2})","(8 \\1) \\2-\\3-\\4"],["[67]","(\\d{2})(\\d{6})","8 \\1 \\2"]],"994":[["[1-9]","(\\d{3})(\\d{2})(\\d{2})","\\1 \\2 \\3"],["90","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"],["1[28]|2|365(?:4|5[02])|46","(\\d{2})(\\d{3})(\\d{2})(\\d{2})","(0\\1) \\2 \\3 \\4"],["[13-9]","(\\d{2})(\\d{3})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"]],"995":[["70","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["32","(\\d{2})(\\d{3})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"],["[57]","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"],["[348]","(\\d{3})(\\d{2})(\\d{2})(\\d{2})","0\\1 \\2 \\3 \\4"]],"996":[["3(?:1[346]|[24-79])","(\\d{4})(\\d{5})","0\\1 \\2"],["[235-79]|88","(\\d{3})(\\d{3})(\\d{3})","0\\1 \\2 \\3"],["8","(\\d{3})(\\d{3})(\\d)(\\d{2,3})","0\\1 \\2 \\3 \\4"]],"998":[["[235-9]","(\\d{2})(\\d{3})(\\d{2})(\\d{2})","\\1 \\2 \\3 \\4"]]},"regions":{"AC":"247","AD":"376","AE":"971","AF":"93","AG":"1","AI":"1","AL":"355","AM":"374","AO":"244","AR":"54","AS":"1","AT":"43","AU":"61","AW":"297","AX":"358","AZ":"994","BA":"387","BB":"1","BD":"880","BE":"32","BF":"226","BG":"359","BH":"973","BI":"257","BJ":"229","BL":"590","BM":"1","BN":"673","BO":"591","BQ":"599","BR":"55","BS":"1","BT":"975","BW":"267","BY":"375","BZ":"501","CA":"1","CC":"61","CD":"243","CF":"236","CG":"242","CH":"41","CI":"225","CK":"682","CL":"56","CM":"237","CN":"86","CO":"57","CR":"506","CU":"53","CV":"238","CW":"599","CX":"61","CY":"357","CZ":"420","DE":"49","DJ":"253","DK":"45","DM":"1","DO":"1","DZ":"213","EC":"593","EE":"372","EG":"20","EH":"212","ER":"291","ES":"34","ET":"251","FI":"358","FJ":"679","FK":"500","FM":"691","FO":"298","FR":"33","GA":"241","GB":"44","GD":"1","GE":"995","GF":"594","GG":"44","GH":"233","GI":"350","GL":"299","GM":"220","GN":"224","GP":"590","GQ":"240","GR":"30","GT":"502","GU":"1","GW":"245","GY":"592","HK":"852","HN":"504","HR":"385","HT":"509","HU":"36","ID":"62","IE":"353","IL":"972","IM":"44","IN":"91","IO":"246","IQ":"964","IR":"98","IS":"354","IT":"39","JE":"44","JM":"1","JO":"962","JP":"81","KE":"254","KG":"996","KH":"855","KI":"686","KM":"269","KN":"1","KP":"850","KR":"82","KW":"965","KY":"1","KZ":"7","LA":"856","LB":"961","LC":"1","LI":"423","LK":"94","LR":"231","LS":"266","LT":"370","LU":"352","LV":"371","LY":"218","MA":"212","MC":"377","MD":"373","ME":"382","MF":"590","MG":"261","MH":"692","MK":"389","ML":"223","MM":"95","MN":"976","MO":"853","MP":"1","MQ":"596","MR":"222","MS":"1","MT":"356","MU":"230","MV":"960","MW":"265","MX":"52","MY":"60","MZ":"258","NA":"264","NC":"687","NE":"227","NF":"672","NG":"234","NI":"505","NL":"31","NO":"47","NP":"977","NR":"674","NU":"683","NZ":"64","OM":"968","PA":"507","PE":"51","PF":"689","PG":"675","PH":"63","PK":"92","PL":"48","PM":"508","PR":"1","PS":"970","PT":"351","PW":"680","PY":"595","QA":"974","RE":"262","RO":"40","RS":"381","RU":"7","RW":"250","SA":"966","SB":"677","SC":"248","SD":"249","SE":"46","SG":"65","SH":"290","SI":"386","SJ":"47","SK":"421","SL":"232","SM":"378","SN":"221","SO":"252","SR":"597","SS":"211","ST":"239","SV":"503","SX":"1","SY":"963","SZ":"268","TA":"290","TC":"1","TD":"235","TG":"228","TH":"66","TJ":"992","TK":"690","TL":"670","TM":"993","TN":"216","TO":"676","TR":"90","TT":"1","TV":"688","TW":"886","TZ":"255","UA":"380","UG":"256","US":"1","UY":"598","UZ":"998","VA":"39","VC":"1","VE":"58","VG":"1","VI":"1","VN":"84","VU":"678","WF":"681","WS":"685","XK":"383","YE":"967","YT":"262","ZA":"27","ZM":"260","ZW":"263"}}'::jsonb
$$;

-- Name: new_secret(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.new_secret(prefix text) RETURNS text
    LANGUAGE sql
    AS $$
    SELECT prefix || encode(gen_random_bytes(24), 'hex')
$$;

-- Name: next_appointment(uuid, text, timestamp with time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.next_appointment(org_id uuid, phone text, now_ts timestamp with time zone) RETURNS uuid
    LANGUAGE plpgsql STABLE
    AS $$
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

-- Name: normalize_phone(text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.normalize_phone(raw text, country text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
    s text := regexp_replace(coalesce(raw, ''), '[\s().\-/]', '', 'g');
    home voxbook.countries;        -- the country the number was said in
    rules voxbook.countries;       -- the region whose rules read it: home, or the main region of its code
    lengths int[];
    pattern text;
    code text;
    nsn text;                      -- national significant number
    stripped text;
    m text[];
BEGIN
    IF raw IS NULL OR s = '' THEN
        RETURN NULL;
    END IF;
    -- The common case first, in one query: a '+' number (what Twilio, Vapi and most callers' numbers are), read
    -- by its calling code's main region, the country only checked to exist. Anything else, or no such code,
    -- takes the general path below, which also says what is wrong. The hint is built only on failure
    -- (internal.phone_hint). One query instead of two and no format(): a claim is the hot path (issue 18).
    IF s ~ '^\+[1-9][0-9]{0,16}$' THEN
        SELECT * INTO rules FROM voxbook.countries AS c
         WHERE c.main_region AND c.calling_code IN (substr(s, 2, 1), substr(s, 2, 2), substr(s, 2, 3))
           AND (normalize_phone.country IS NULL
                OR EXISTS (SELECT 1 FROM voxbook.countries AS h WHERE h.iso_code = upper(normalize_phone.country)));
        IF FOUND THEN
            code := rules.calling_code;
            nsn := substr(s, length(code) + 2);
        END IF;
    END IF;
    IF code IS NULL THEN
        IF country IS NOT NULL THEN
            SELECT * INTO home FROM voxbook.countries AS c WHERE c.iso_code = upper(normalize_phone.country);
            IF NOT FOUND THEN
                PERFORM internal.fail('VB400', 'unknown country',
                                      'Give an ISO 3166 alpha-2 country code such as US or GB (voxbook.countries).');
            END IF;
        END IF;
        IF s LIKE '+%' THEN
            nsn := substr(s, 2);
        ELSIF home.international_prefix IS NOT NULL
              AND s ~ ('^(?:' || home.international_prefix || ')[1-9][0-9]*$') THEN
            m := regexp_match(s, '^(?:' || home.international_prefix || ')([1-9][0-9]*)$');
            nsn := m[1];
        ELSIF s ~ '^00[1-9]' THEN
            nsn := substr(s, 3);
        ELSIF home.iso_code IS NOT NULL THEN
            rules := home;
            code := home.calling_code;
            nsn := s;
        ELSE
            PERFORM internal.fail('VB400', 'malformed phone number', internal.phone_hint(country));
        END IF;
        IF nsn !~ '^[0-9]{1,17}$' THEN
            PERFORM internal.fail('VB400', 'malformed phone number', internal.phone_hint(country));
        END IF;
        IF code IS NULL THEN
            SELECT * INTO rules FROM voxbook.countries AS c
             WHERE c.main_region AND c.calling_code IN (left(nsn, 1), left(nsn, 2), left(nsn, 3));
            IF NOT FOUND OR nsn !~ '^[1-9]' THEN
                PERFORM internal.fail('VB400', 'malformed phone number', internal.phone_hint(country));
            END IF;
            code := rules.calling_code;
            nsn := substr(nsn, length(code) + 1);
        END IF;
    END IF;
    -- The trunk prefix, as libphonenumber strips it: the match of national_prefix_for_parsing at the start goes
    -- (or is rewritten by the transform rule when its last group matched), unless the number matched the
    -- region's pattern with it and no longer does without it.
    IF rules.national_prefix_for_parsing IS NOT NULL THEN
        m := regexp_match(nsn, '^(' || rules.national_prefix_for_parsing || ')');
        IF m IS NOT NULL THEN
            IF rules.national_prefix_transform_rule IS NOT NULL AND cardinality(m) > 1
               AND m[cardinality(m)] IS NOT NULL THEN
                stripped := regexp_replace(nsn, '^(?:' || rules.national_prefix_for_parsing || ')',
                                           rules.national_prefix_transform_rule);
            ELSE
                stripped := substr(nsn, length(m[1]) + 1);
            END IF;
            -- ... and, as libphonenumber's parse, only when what is left is not too short to be a number.
            IF (nsn !~ ('^(?:' || rules.national_number_pattern || ')$')
                OR stripped ~ ('^(?:' || rules.national_number_pattern || ')$'))
               AND (length(stripped) = ANY (rules.possible_lengths)
                    OR length(stripped) > rules.possible_lengths[cardinality(rules.possible_lengths)]) THEN
                nsn := stripped;
            END IF;
        END IF;
    END IF;
    lengths := rules.possible_lengths;
    pattern := rules.national_number_pattern;
    IF NOT rules.main_region THEN
        SELECT c.possible_lengths, c.national_number_pattern INTO lengths, pattern
          FROM voxbook.countries AS c WHERE c.main_region AND c.calling_code = code;
    END IF;
    IF NOT (length(nsn) = ANY (lengths)) OR nsn !~ ('^(?:' || pattern || ')$')
       OR '+' || code || nsn !~ '^\+[1-9][0-9]{7,14}$' THEN
        PERFORM internal.fail('VB400', 'malformed phone number', internal.phone_hint(country));
    END IF;
    RETURN '+' || code || nsn;
END
$_$;

-- Name: notice_refusal(voxbook.organizations, uuid, timestamp with time zone, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.notice_refusal(o voxbook.organizations, appointment_id uuid, starts timestamp with time zone, staff_user text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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

-- Name: notify(text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.notify(channel text, payload text DEFAULT ''::text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        PERFORM pg_notify(channel, payload);
    END IF;
END
$$;

-- Name: occupied(timestamp with time zone, timestamp with time zone, integer, integer); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.occupied(starts_at timestamp with time zone, ends_at timestamp with time zone, before_minutes integer, after_minutes integer) RETURNS tstzrange
    LANGUAGE sql STABLE
    AS $$
    SELECT tstzrange(starts_at - make_interval(mins => coalesce(before_minutes, 0)),
                     ends_at + make_interval(mins => coalesce(after_minutes, 0)), '[)')
$$;

-- Name: offers(voxbook.calendars, voxbook.services); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.offers(c voxbook.calendars, s voxbook.services) RETURNS boolean
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF s.id IS NULL THEN
        RETURN true;
    END IF;
    IF NOT s.active THEN
        RETURN false;
    END IF;
    RETURN NOT EXISTS (SELECT 1 FROM voxbook.service_providers AS p
                        WHERE p.org_id = s.org_id AND p.service_id = s.id)
        OR EXISTS (SELECT 1 FROM voxbook.service_providers AS p
                    WHERE p.org_id = s.org_id AND p.service_id = s.id AND p.calendar_id = c.id);
END
$$;

-- Name: one_line(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.one_line(t text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT nullif(btrim(regexp_replace(t, '[\x01-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+', ' ', 'g')), '')
$$;

-- Name: staff_accounts; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.staff_accounts (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    name text NOT NULL,
    role text NOT NULL,
    status text DEFAULT 'invited'::text NOT NULL,
    password_hash text,
    created_by text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    last_sign_in_at timestamp with time zone,
    CONSTRAINT staff_accounts_check CHECK (((status <> 'active'::text) OR (password_hash IS NOT NULL))),
    CONSTRAINT staff_accounts_created_by_check CHECK ((length(created_by) <= 200)),
    CONSTRAINT staff_accounts_email_check CHECK ((((length(email) >= 3) AND (length(email) <= 254)) AND (email = lower(email)) AND (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'::text))),
    CONSTRAINT staff_accounts_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100))),
    CONSTRAINT staff_accounts_password_hash_check CHECK (((password_hash ~~ '$argon2id$%'::text) AND (length(password_hash) <= 512))),
    CONSTRAINT staff_accounts_role_check CHECK ((role = ANY (ARRAY['owner'::text, 'front_desk'::text]))),
    CONSTRAINT staff_accounts_status_check CHECK ((status = ANY (ARRAY['invited'::text, 'active'::text, 'deactivated'::text])))
);

-- Name: TABLE staff_accounts; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.staff_accounts IS 'People who sign in to a clinic''s dashboard: role owner or front_desk, status invited/active/deactivated, an argon2id hash (made in the api layer) and never a password. Managed with api.invite_staff, api.set_staff_role, api.deactivate_staff (db/functions/71_staff_accounts.sql).';

-- Name: open_session(voxbook.staff_accounts, integer); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.open_session(s voxbook.staff_accounts, session_hours integer) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    secret text := internal.new_secret('vbs_');
    now_ts timestamptz := now();
    expires timestamptz;
    o voxbook.organizations;
BEGIN
    IF session_hours IS NULL OR session_hours NOT BETWEEN 1 AND 168 THEN
        PERFORM internal.fail('VB400', 'session_hours must be between 1 and 168', 'Leave it out for 12 hours.');
    END IF;
    expires := now_ts + make_interval(hours => session_hours);
    SELECT * INTO o FROM voxbook.organizations AS x WHERE x.id = s.org_id;
    DELETE FROM voxbook.dashboard_sessions AS x WHERE x.org_id = s.org_id AND x.expires_at <= now_ts;
    INSERT INTO voxbook.dashboard_sessions (org_id, staff_id, session_hash, expires_at)
    VALUES (s.org_id, s.id, internal.token_hash(secret), expires);
    UPDATE voxbook.staff_accounts AS x SET last_sign_in_at = now_ts WHERE x.org_id = s.org_id AND x.id = s.id;
    RETURN jsonb_build_object('success', true, 'session', secret, 'org_id', o.id, 'clinic', o.name,
                              'staff_id', s.id, 'name', s.name, 'role', s.role,
                              'expires_at', internal.utc_iso(expires));
END
$$;

-- Name: or_list(text[], text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.or_list(items text[], language text) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE WHEN cardinality(items) <= 1 THEN coalesce(items[1], '')
                ELSE internal.message('list.or', language,
                                      jsonb_build_object('first', array_to_string(items[1:cardinality(items) - 1], ', '),
                                                         'last', items[cardinality(items)])) END
$$;

-- Name: organization_json(voxbook.organizations); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.organization_json(o voxbook.organizations) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN jsonb_build_object(
        'success', true, 'org_id', o.id, 'name', o.name, 'phone', o.phone, 'time_zone', o.time_zone,
        'country', o.country, 'locale', o.locale, 'languages', to_jsonb(o.languages),
        'hold_minutes', o.hold_minutes, 'code_length', o.code_length,
        'max_code_attempts', o.max_code_attempts, 'max_code_sends', o.max_code_sends,
        'min_notice_minutes', o.min_notice_minutes, 'booking_horizon_days', o.booking_horizon_days,
        'hot_lead_threshold', o.hot_lead_threshold, 'help_text', o.help_text,
        'calendars', (SELECT coalesce(jsonb_agg(jsonb_build_object('calendar_id', c.id, 'provider', c.display_name,
                                                                   'slot_minutes', c.slot_minutes,
                                                                   'default_duration_minutes', c.default_duration_minutes)
                                                ORDER BY c.id), '[]')
                        FROM voxbook.calendars AS c WHERE c.org_id = o.id AND c.active),
        'services', (SELECT coalesce(jsonb_agg(jsonb_build_object('service', s.id, 'name', s.name,
                                                                  'duration_minutes', s.duration_minutes,
                                                                  'price_cents', s.price_cents,
                                                                  'value_tier', s.value_tier)
                                               ORDER BY s.id), '[]')
                       FROM voxbook.services AS s WHERE s.org_id = o.id));
END
$$;

-- Name: outside_hours(voxbook.organizations, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.outside_hours(o voxbook.organizations, calendar_id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    r record;
    h voxbook.holds;
    local_s timestamp;
    local_e timestamp;
    result jsonb := '[]';
    now_ts timestamptz := internal.clock();
BEGIN
    FOR r IN
        SELECT x AS h, a.id AS appointment_id, coalesce(a.patient_name, ct.name) AS patient
          FROM voxbook.holds AS x
          JOIN voxbook.appointments AS a ON a.org_id = x.org_id AND a.hold_id = x.id AND a.status = 'confirmed'
          JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
         WHERE x.org_id = o.id AND x.calendar_id = outside_hours.calendar_id AND x.status = 'confirmed'
           AND x.starts_at > now_ts
         ORDER BY x.starts_at, x.id
    LOOP
        h := r.h;
        local_s := h.starts_at AT TIME ZONE o.time_zone;
        local_e := h.ends_at AT TIME ZONE o.time_zone;
        IF EXISTS (SELECT 1 FROM voxbook.hours_exceptions AS e
                    WHERE e.org_id = o.id AND e.calendar_id = outside_hours.calendar_id AND e.on_date = local_s::date) THEN
            CONTINUE WHEN EXISTS (SELECT 1 FROM voxbook.hours_exceptions AS e
                                   WHERE e.org_id = o.id AND e.calendar_id = outside_hours.calendar_id
                                     AND e.on_date = local_s::date AND e.starts IS NOT NULL
                                     AND local_s >= local_s::date + e.starts AND local_e <= local_s::date + e.ends);
        ELSE
            CONTINUE WHEN EXISTS (SELECT 1 FROM voxbook.working_hours AS w
                                   WHERE w.org_id = o.id AND w.calendar_id = outside_hours.calendar_id
                                     AND w.iso_dow = extract(isodow FROM local_s)
                                     AND local_s >= local_s::date + w.starts AND local_e <= local_s::date + w.ends);
        END IF;
        result := result || jsonb_build_array(internal.booking_json(h, r.appointment_id, r.patient, o.time_zone));
    END LOOP;
    RETURN result;
END
$$;

-- Name: parse_intervals(text, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.parse_intervals(day text, intervals jsonb) RETURNS TABLE(starts time without time zone, ends time without time zone)
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
DECLARE
    e jsonb;
    s time;
    t time;
    prev_end time;
    prev_start time;
    hint constant text := 'Hours are {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}: each day a list of '
                          || '[from, to] local times, from before to, not overlapping; a day left out is closed.';
BEGIN
    IF intervals IS NULL OR jsonb_typeof(intervals) <> 'array' THEN
        PERFORM internal.fail('VB400', format('%s: hours must be a list of [from, to] pairs', day), hint);
    END IF;
    FOR e IN SELECT x FROM jsonb_array_elements(intervals) AS a(x) LOOP
        IF jsonb_typeof(e) <> 'array' OR jsonb_array_length(e) <> 2
           OR jsonb_typeof(e -> 0) <> 'string' OR jsonb_typeof(e -> 1) <> 'string'
           OR (e ->> 0) !~ '^\s*([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?\s*$'
           OR (e ->> 1) !~ '^\s*(([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?|24:00(:00)?)\s*$' THEN
            PERFORM internal.fail('VB400', format('%s: %s is not a [from, to] pair of times', day, e::text), hint);
        END IF;
        s := (e ->> 0)::time;
        t := (e ->> 1)::time;
        IF s >= t THEN
            PERFORM internal.fail('VB400', format('%s: %s-%s ends before it starts', day, internal.hhmm(s), internal.hhmm(t)), hint);
        END IF;
        starts := s;
        ends := t;
        RETURN NEXT;
    END LOOP;
    FOR s, t IN SELECT x.a, x.b FROM (SELECT (v ->> 0)::time AS a, (v ->> 1)::time AS b
                                        FROM jsonb_array_elements(intervals) AS j(v)) AS x ORDER BY x.a, x.b LOOP
        IF prev_end IS NOT NULL AND s < prev_end THEN
            PERFORM internal.fail('VB400', format('%s: %s-%s and %s-%s overlap', day, internal.hhmm(prev_start),
                                                  internal.hhmm(prev_end), internal.hhmm(s), internal.hhmm(t)), hint);
        END IF;
        prev_start := s;
        prev_end := t;
    END LOOP;
END
$_$;

-- Name: phone_hint(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.phone_hint(country text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    home voxbook.countries;
BEGIN
    IF country IS NOT NULL THEN
        SELECT * INTO home FROM voxbook.countries AS c WHERE c.iso_code = upper(phone_hint.country);
    END IF;
    IF home.iso_code IS NULL THEN
        RETURN 'Give the number in E.164 with its +, e.g. +15551234567 (spaces, dashes and brackets are fine).';
    END IF;
    RETURN format('Give the number with +%s, or as dialled in %s%s (spaces, dashes and brackets are fine).',
                  home.calling_code, home.iso_code, ', e.g. ' || home.example);
END
$$;

-- Name: pick_my_appointment(jsonb, text, uuid, integer, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.pick_my_appointment(list jsonb, tz text, appointment_id uuid, which integer, at text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $_$
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
$_$;

-- Name: sms_outbox; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.sms_outbox (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    kind text NOT NULL,
    appointment_id uuid,
    hold_id uuid,
    recipient voxbook.e164 NOT NULL,
    sender voxbook.e164,
    body text NOT NULL,
    redact_after_send boolean DEFAULT false NOT NULL,
    encoding text NOT NULL,
    segments integer NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    send_after timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone,
    attempts integer DEFAULT 0 NOT NULL,
    max_attempts integer DEFAULT 1000 NOT NULL,
    locked_by text,
    locked_at timestamp with time zone,
    provider_message_id text,
    error_code text,
    error_message text,
    skip_reason text,
    sent_at timestamp with time zone,
    delivered_at timestamp with time zone,
    status_updated_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    first_attempt_at timestamp with time zone,
    provider_status text,
    provider_segments integer,
    lease_until timestamp with time zone,
    provider_may_have boolean DEFAULT false NOT NULL,
    reminder_hold_id uuid,
    reminder_starts_at timestamp with time zone,
    resent_from uuid,
    CONSTRAINT sms_outbox_body_check CHECK (((length(body) >= 1) AND (length(body) <= 1600))),
    CONSTRAINT sms_outbox_encoding_check CHECK ((encoding = ANY (ARRAY['GSM-7'::text, 'UCS-2'::text]))),
    CONSTRAINT sms_outbox_kind_check CHECK ((kind = ANY (ARRAY['otp'::text, 'confirmation'::text, 'reminder'::text, 'cancellation'::text, 'reschedule'::text, 'hot_lead'::text, 'other'::text]))),
    CONSTRAINT sms_outbox_provider_segments_check CHECK ((provider_segments >= 0)),
    CONSTRAINT sms_outbox_segments_check CHECK ((segments >= 1)),
    CONSTRAINT sms_outbox_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'sending'::text, 'unknown'::text, 'sent'::text, 'delivered'::text, 'undelivered'::text, 'failed'::text, 'cancelled'::text, 'skipped'::text])))
)
WITH (autovacuum_vacuum_scale_factor='0.02', autovacuum_vacuum_threshold='500', autovacuum_vacuum_insert_scale_factor='0.02', autovacuum_vacuum_insert_threshold='500', autovacuum_analyze_scale_factor='0.02', autovacuum_analyze_threshold='500');

-- Name: TABLE sms_outbox; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.sms_outbox IS 'Every SMS voxbook sends or skipped, with its delivery state. Rows are inserted by api functions in the transaction of the change they announce (internal.queue_sms, which also wakes the worker on a single PostgreSQL with NOTIFY voxbook_sms; the worker polls as well).';

-- Name: COLUMN sms_outbox.redact_after_send; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.sms_outbox.redact_after_send IS 'One-time codes: the body keeps the plain code only until the message is handed to the provider.';

-- Name: COLUMN sms_outbox.status; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.sms_outbox.status IS 'queued (waiting, maybe until send_after) -> sending (claimed by locked_by) -> sent (provider accepted) -> delivered | undelivered | failed. unknown = the provider may have it: reconcile before any resend. cancelled / skipped = never sent, skip_reason says why.';

-- Name: COLUMN sms_outbox.first_attempt_at; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.sms_outbox.first_attempt_at IS 'When a worker first handed (or may have handed) this message to the provider: the start of the window searched when reconciling an unknown outcome.';

-- Name: COLUMN sms_outbox.provider_status; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.sms_outbox.provider_status IS 'The provider''s own latest status (Twilio: queued, sent, delivered, undelivered, failed, read, ...).';

-- Name: COLUMN sms_outbox.provider_segments; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.sms_outbox.provider_segments IS 'Segments as the provider counted them (Twilio num_segments); segments is our own count at queue time.';

-- Name: COLUMN sms_outbox.lease_until; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.sms_outbox.lease_until IS 'While status = sending: until when locked_by holds the row. Set by the claim, renewed by api.begin_sms_send to cover one send; only after it may another worker take the row over (api.claim_sms_batch).';

-- Name: COLUMN sms_outbox.provider_may_have; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.sms_outbox.provider_may_have IS 'A request for this message may have reached the provider and is not known to have failed: the message is never sent again before the provider has been asked (the ambiguous-send rule, workers/README.md).';

-- Name: COLUMN sms_outbox.reminder_hold_id; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.sms_outbox.reminder_hold_id IS 'Reminders: the appointment''s hold (its time) when the reminder was queued. A reminder whose appointment has another hold now (it moved) must not go out.';

-- Name: COLUMN sms_outbox.reminder_starts_at; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.sms_outbox.reminder_starts_at IS 'Reminders: the appointment start the reminder announces; retries stop there.';

-- Name: COLUMN sms_outbox.resent_from; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.sms_outbox.resent_from IS 'Staff resent a failed, undelivered or skipped message (api.resend_sms): the id of that message. Each is resent once.';

-- Name: problem_sms_json(voxbook.sms_outbox, voxbook.organizations, jsonb, text, jsonb, voxbook.sms_outbox); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.problem_sms_json(m voxbook.sms_outbox, o voxbook.organizations, loc jsonb, patient_name text, refusal jsonb, resend voxbook.sms_outbox) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object(
        'message_id', m.id, 'kind', m.kind, 'status', m.status, 'error_code', m.error_code,
        'reason', internal.sms_problem_reason(m), 'skip_reason', m.skip_reason, 'attempts', m.attempts,
        'phone_masked', internal.mask_phone(m.recipient), 'appointment_id', m.appointment_id,
        'patient_name', patient_name, 'created_at', internal.utc_iso(m.created_at),
        'local_time', internal.local_text(m.created_at, o.time_zone, loc),
        'resent', CASE WHEN resend.id IS NOT NULL
                       THEN jsonb_build_object('message_id', resend.id, 'status', resend.status) END,
        'resendable', resend.id IS NULL AND refusal IS NULL,
        'not_resendable', CASE WHEN resend.id IS NULL THEN refusal END)
$$;

-- Name: provider_json(voxbook.calendars, date); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.provider_json(c voxbook.calendars, from_date date) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN jsonb_build_object('calendar_id', c.id, 'display_name', c.display_name, 'slot_minutes', c.slot_minutes,
                              'default_duration_minutes', c.default_duration_minutes, 'active', c.active,
                              'hours', internal.week_json(c.org_id, c.id),
                              'exceptions', internal.exceptions_json(c.org_id, c.id, from_date));
END
$$;

-- Name: queue_appointment_sms(uuid, uuid, text, timestamp with time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.queue_appointment_sms(org_id uuid, appointment_id uuid, kind text, send_after timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS voxbook.sms_outbox
    LANGUAGE plpgsql
    AS $$
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

-- Name: queue_sms(uuid, text, text, text, uuid, uuid, timestamp with time zone, timestamp with time zone, boolean); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.queue_sms(org_id uuid, kind text, recipient text, body text, appointment_id uuid DEFAULT NULL::uuid, hold_id uuid DEFAULT NULL::uuid, send_after timestamp with time zone DEFAULT NULL::timestamp with time zone, expires_at timestamp with time zone DEFAULT NULL::timestamp with time zone, redact_after_send boolean DEFAULT false) RETURNS voxbook.sms_outbox
    LANGUAGE plpgsql
    AS $$
DECLARE
    m voxbook.sms_outbox;
    parts record;
    opted_out boolean;
    -- A value, not now() inside COALESCE of the INSERT: Citus refuses that in a statement it routes.
    due timestamptz := coalesce(send_after, now());
BEGIN
    parts := internal.sms_parts(body);
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
           due, expires_at
      FROM voxbook.organizations AS o WHERE o.id = queue_sms.org_id
    RETURNING x.* INTO m;
    IF m.status = 'queued' AND m.send_after <= now() THEN
        -- A wake-up only: the empty payload lets PostgreSQL fold a transaction's NOTIFYs into one.
        PERFORM internal.notify('voxbook_sms');
    END IF;
    RETURN m;
END
$$;

-- Name: record_code_event(uuid, text, voxbook.holds, timestamp with time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.record_code_event(org_id uuid, kind text, h voxbook.holds, at timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO voxbook.code_events (org_id, kind, at, phone, vapi_call_id, hold_id)
    VALUES (org_id, kind, at, h.patient_phone, h.vapi_call_id, h.id);
END
$$;

-- Name: record_sign_in(bytea, text, boolean); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.record_sign_in(email_hash bytea, client_address text, succeeded boolean) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    now_ts timestamptz := internal.clock();
BEGIN
    DELETE FROM voxbook.sign_in_attempts AS a WHERE a.at < now_ts - interval '1 day';
    INSERT INTO voxbook.sign_in_attempts (at, email_hash, client_address, succeeded)
    VALUES (now_ts, record_sign_in.email_hash, record_sign_in.client_address, record_sign_in.succeeded);
END
$$;

-- Name: record_sms_sent(uuid, uuid, text, text, integer); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.record_sms_sent(msg_org_id uuid, msg_id uuid, sid text, sid_status text, sid_segments integer) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    m voxbook.sms_outbox;
    now_ts timestamptz := internal.clock();
BEGIN
    SELECT * INTO m FROM voxbook.sms_outbox AS x WHERE x.org_id = msg_org_id AND x.id = msg_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN internal.refusal('unknown_message', 'unknown message', jsonb_build_object('message_id', msg_id));
    END IF;
    IF m.provider_message_id IS NOT NULL AND m.provider_message_id <> sid THEN
        -- The provider has two messages for one row: keep the first, tell the worker loudly.
        RETURN internal.refusal('duplicate_send', 'This message was already sent under another provider id',
                                jsonb_build_object('message_id', m.id, 'status', m.status,
                                                   'provider_message_id', m.provider_message_id));
    END IF;
    IF m.provider_message_id IS NULL
       AND EXISTS (SELECT 1 FROM voxbook.sms_outbox AS o WHERE o.provider_message_id = sid) THEN
        -- One provider message is one of ours, never two: a lookup matched another message's send (two
        -- identical texts to one number). Checked here rather than left to the unique index, whose error
        -- would undo the caller's whole batch. The row goes back to 'unknown' to be looked up again, with
        -- that id among its taken_sids.
        UPDATE voxbook.sms_outbox AS x
           SET status = 'unknown', provider_may_have = true, send_after = now_ts,
               error_code = 'sid_taken', error_message = 'the provider message found belongs to another message',
               locked_by = NULL, locked_at = NULL, lease_until = NULL, updated_at = now()
         WHERE x.org_id = m.org_id AND x.id = m.id AND x.status IN ('sending', 'unknown')
        RETURNING x.* INTO m;
        RETURN internal.refusal('sid_taken', 'That provider id is recorded for another message',
                                jsonb_build_object('message_id', msg_id, 'status', m.status));
    END IF;
    -- Whatever we believed (sending, unknown, even failed after an unknown outcome), the provider has it:
    -- it is at least 'sent'. A callback may already have moved it further.
    UPDATE voxbook.sms_outbox AS x
       SET status = CASE WHEN internal.sms_status_rank(x.status) >= 2 AND x.provider_message_id IS NOT NULL
                         THEN x.status ELSE 'sent' END,
           provider_message_id = sid,
           provider_status = CASE WHEN internal.twilio_status_rank(sid_status) > internal.twilio_status_rank(x.provider_status)
                                  THEN sid_status ELSE x.provider_status END,
           provider_segments = coalesce(nullif(sid_segments, 0), x.provider_segments),
           sent_at = coalesce(x.sent_at, now_ts),
           skip_reason = NULL,
           error_code = CASE WHEN x.status IN ('sending', 'unknown', 'failed') THEN NULL ELSE x.error_code END,
           error_message = CASE WHEN x.status IN ('sending', 'unknown', 'failed') THEN NULL ELSE x.error_message END,
           body = internal.settled_body(x.body, x.redact_after_send),
           locked_by = NULL, locked_at = NULL, lease_until = NULL, updated_at = now()
     WHERE x.org_id = m.org_id AND x.id = m.id
    RETURNING x.* INTO m;
    RETURN jsonb_build_object('success', true, 'message_id', m.id, 'status', m.status,
                              'provider_message_id', m.provider_message_id);
END
$$;

-- Name: redact_sms(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.redact_sms(body text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT regexp_replace(body, '[0-9]{4,}', '****', 'g')
$$;

-- Name: refusal(text, text, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.refusal(code text, error text, extra jsonb DEFAULT '{}'::jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object('success', false, 'code', code, 'error', error) || extra
$$;

-- Name: release_listed_holds(uuid, jsonb, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.release_listed_holds(org_id uuid, bookings jsonb, reason text) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    hold uuid;
    now_ts timestamptz := internal.clock();   -- a value: Citus refuses the clock inside the UPDATE
BEGIN
    FOR hold IN SELECT (e ->> 'hold_id')::uuid FROM jsonb_array_elements(bookings -> 'holds') AS e ORDER BY 1 LOOP
        UPDATE voxbook.holds AS x SET status = 'released', release_reason = reason, updated_at = now_ts
         WHERE x.org_id = release_listed_holds.org_id AND x.id = hold AND x.status = 'held';
        PERFORM internal.cancel_unsent_codes(release_listed_holds.org_id, hold, reason);
    END LOOP;
END
$$;

-- Name: request_callback(uuid, text, text, text, text, text, uuid); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.request_callback(org_id uuid, kind text, reason text, phone text DEFAULT NULL::text, name text DEFAULT NULL::text, vapi_call_id text DEFAULT NULL::text, appointment_id uuid DEFAULT NULL::uuid) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    r voxbook.callback_requests;
    m voxbook.sms_outbox;
    tag text;
    to_number text;
    call_key constant text := nullif(btrim(vapi_call_id), '');
    who constant text := left(internal.one_line(name), 200);
    number constant text := CASE WHEN phone ~ '^\+[1-9][0-9]{7,14}$' THEN phone END;
    now_ts constant timestamptz := internal.clock();
BEGIN
    IF kind IS NULL OR NOT kind = ANY (internal.callback_kinds()) THEN
        PERFORM internal.fail('VB400', 'unknown callback kind',
                              'One of: ' || array_to_string(internal.callback_kinds(), ', ') || '.');
    END IF;
    IF coalesce(btrim(reason), '') = '' THEN
        PERFORM internal.fail('VB400', 'reason is required', 'Say why the clinic should call back, for staff.');
    END IF;
    IF length(call_key) > 200 THEN
        PERFORM internal.fail('VB400', 'vapi_call_id is too long', 'Pass Vapi''s call id as it came.');
    END IF;
    IF appointment_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM voxbook.appointments AS a
             WHERE a.org_id = o.id AND a.id = request_callback.appointment_id) THEN
        PERFORM internal.fail('VB404', 'appointment not found', 'Give an appointment of this clinic, or none.');
    END IF;
    INSERT INTO voxbook.callback_requests AS x (org_id, vapi_call_id, phone, name, reason, kind, appointment_id,
                                                created_at)
    VALUES (o.id, call_key, number, who, left(btrim(reason), 1000), kind, appointment_id, now_ts)
    ON CONFLICT ON CONSTRAINT callback_requests_once_per_call DO NOTHING
    RETURNING x.* INTO r;
    IF r.id IS NULL THEN   -- this call asked already (a redelivery, a second failure of the same kind)
        SELECT * INTO r FROM voxbook.callback_requests AS x
         WHERE x.org_id = o.id AND x.vapi_call_id = call_key AND x.kind = request_callback.kind;
        RETURN jsonb_build_object('success', true, 'duplicate', true, 'callback_request', internal.callback_json(r, o));
    END IF;
    to_number := internal.front_desk_number(o);
    IF to_number IS NOT NULL THEN
        tag := internal.clinic_locale(o.locale);   -- the front desk reads the clinic's language
        m := internal.queue_sms(o.id, 'other', to_number, left(internal.gsm7(internal.message(
                'sms.callback.' || kind, tag, jsonb_build_object(
                    'name', coalesce(who, internal.message('sms.hot_lead.unknown_caller', tag)),
                    'phone', coalesce(internal.display_phone(number, o.country),
                                      internal.message('sms.hot_lead.no_number', tag))))), 1600),
                appointment_id => r.appointment_id);
        UPDATE voxbook.callback_requests AS x SET sms_id = m.id
         WHERE x.org_id = r.org_id AND x.id = r.id
        RETURNING x.* INTO r;
    END IF;
    RETURN jsonb_build_object('success', true, 'duplicate', false, 'callback_request', internal.callback_json(r, o));
END
$_$;

-- Name: require(anyelement, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.require(value anyelement, what text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF value IS NULL THEN
        PERFORM internal.fail('VB400', what || ' is required', 'Pass ' || what || ' (named parameter).');
    END IF;
END
$$;

-- Name: require_calendar(uuid, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.require_calendar(org_id uuid, calendar_id text) RETURNS voxbook.calendars
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    c voxbook.calendars;
BEGIN
    IF calendar_id IS NULL THEN   -- as in internal.require_org: the helper only when it fails
        PERFORM internal.require(calendar_id, 'calendar_id');
    END IF;
    SELECT * INTO c FROM voxbook.calendars AS x
     WHERE x.org_id = require_calendar.org_id AND x.id = require_calendar.calendar_id AND x.active;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown calendar',
                              'Calendar ids are per clinic, e.g. cal-smith; api.check_availability lists them with their slots.');
    END IF;
    RETURN c;
END
$$;

-- Name: require_calendar_connection(uuid, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.require_calendar_connection(org_id uuid, calendar_id text) RETURNS voxbook.calendar_connections
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    cc voxbook.calendar_connections;
BEGIN
    PERFORM internal.require(calendar_id, 'calendar_id');
    SELECT * INTO cc FROM voxbook.calendar_connections AS x
     WHERE x.org_id = require_calendar_connection.org_id AND x.calendar_id = require_calendar_connection.calendar_id;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'the provider has no connected calendar',
                              'api.list_calendar_connections lists the clinic''s; voxbook calendar connect adds one.');
    END IF;
    RETURN cc;
END
$$;

-- Name: require_date(date, text, boolean); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.require_date(value date, what text, optional boolean DEFAULT false) RETURNS void
    LANGUAGE sql STABLE
    AS $$
    SELECT internal.require_instant(CASE WHEN value > DATE '9999-12-31' THEN 'infinity'
                                        ELSE value::timestamp AT TIME ZONE 'UTC' END, what, optional)
$$;

-- Name: require_instant(timestamp with time zone, text, boolean); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.require_instant(value timestamp with time zone, what text, optional boolean DEFAULT false) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF value IS NULL THEN
        IF NOT optional THEN
            PERFORM internal.require(value, what);
        END IF;
    ELSIF NOT internal.in_time_range(value) THEN
        PERFORM internal.fail('VB400', what || ' is out of range',
                              'Give a real date from 2000 to five years ahead, e.g. 2026-03-02 (a time: 2026-03-02T14:00:00Z).');
    END IF;
END
$$;

-- Name: require_offered(voxbook.calendars, voxbook.services); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.require_offered(c voxbook.calendars, s voxbook.services) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF s.id IS NOT NULL AND NOT s.active THEN
        PERFORM internal.fail('VB400', format('%s is not offered', s.name),
                              'The service is inactive; api.get_clinic lists the services offered.');
    END IF;
    IF c.id IS NOT NULL AND NOT internal.offers(c, s) THEN
        PERFORM internal.fail('VB400', format('%s does not offer %s', c.display_name, s.name),
                              'Use a calendar_id that api.check_availability lists for this service.');
    END IF;
END
$$;

-- Name: require_org(uuid); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.require_org(org_id uuid) RETURNS voxbook.organizations
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    o voxbook.organizations;
BEGIN
    -- The helper only on its failure path: a PL/pgSQL call costs ~30-50 k instructions in every transaction
    -- before it does anything (claims are the hot path, bench/README.md issue 18).
    IF org_id IS NULL THEN
        PERFORM internal.require(org_id, 'org_id');
    END IF;
    SELECT * INTO o FROM voxbook.organizations AS x WHERE x.id = require_org.org_id;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown organization', 'Check org_id; api.find_organization(phone) looks a clinic up by its number.');
    END IF;
    RETURN o;
END
$$;

-- Name: require_staff(uuid, uuid); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.require_staff(org_id uuid, staff_id uuid) RETURNS voxbook.staff_accounts
    LANGUAGE plpgsql
    AS $$
DECLARE
    s voxbook.staff_accounts;
BEGIN
    PERFORM internal.require(staff_id, 'staff_id');
    SELECT * INTO s FROM voxbook.staff_accounts AS x
     WHERE x.org_id = require_staff.org_id AND x.id = require_staff.staff_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown staff account', 'Use a staff_id from api.list_staff for this clinic.');
    END IF;
    RETURN s;
END
$$;

-- Name: require_time_zone(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.require_time_zone(tz text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    listed text;
BEGIN
    PERFORM internal.require(tz, 'time_zone');
    SELECT z.name INTO listed FROM voxbook.time_zones AS z WHERE z.name = btrim(tz);
    IF listed IS NULL THEN
        SELECT z.name INTO listed FROM voxbook.time_zones AS z WHERE lower(z.name) = lower(btrim(tz))
         ORDER BY z.name LIMIT 1;
    END IF;
    IF listed IS NULL THEN
        PERFORM internal.fail('VB400', 'unknown time zone',
                              'Give an IANA zone name such as America/New_York or Europe/London (abbreviations such as EST and offsets such as +05 are not zones).');
    END IF;
    RETURN listed;
END
$$;

-- Name: require_tool_args(text, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.require_tool_args(function_name text, args jsonb) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF function_name IS NULL OR NOT function_name = ANY (internal.tool_functions()) THEN
        PERFORM internal.fail('VB400', 'function_name is not a tool function',
                              format('One of: %s.', array_to_string(internal.tool_functions(), ', ')));
    END IF;
    IF args IS NULL OR jsonb_typeof(args) <> 'object' THEN
        PERFORM internal.fail('VB400', 'args must be a JSON object', 'Pass the tool function''s named parameters, e.g. {"date": "2026-03-02"}.');
    END IF;
    IF args ? 'org_id' THEN
        PERFORM internal.fail('VB400', 'args must not contain org_id', 'The clinic is the org_id parameter of api.run_tool_call or api.run_tool.');
    END IF;
    -- A caller is never staff: staff_user would lift the clinic's cancellation notice (40_appointments.sql).
    IF args ? 'staff_user' THEN
        PERFORM internal.fail('VB400', 'args must not contain staff_user', 'Tool calls act for the caller; staff use the api functions directly.');
    END IF;
END
$$;

-- Name: require_tool_call_id(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.require_tool_call_id(tool_call_id text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM internal.require(nullif(btrim(tool_call_id), ''), 'tool_call_id');
    IF length(tool_call_id) > 200 THEN
        PERFORM internal.fail('VB400', 'tool_call_id is too long', 'Pass Vapi''s toolCallId as it came (at most 200 characters).');
    END IF;
END
$$;

-- Name: resend_refusal(voxbook.sms_outbox, timestamp with time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.resend_refusal(m voxbook.sms_outbox, now_ts timestamp with time zone) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    a voxbook.appointments;
    starts timestamptz;
BEGIN
    IF m.status NOT IN ('failed', 'undelivered', 'skipped') THEN
        RETURN jsonb_build_object('code', 'not_resendable', 'error', 'Only a failed, undelivered or skipped text is resent');
    END IF;
    IF m.kind = 'otp' THEN
        RETURN jsonb_build_object('code', 'not_resendable', 'error', 'A code is sent again by the caller''s assistant, not resent');
    END IF;
    IF EXISTS (SELECT 1 FROM voxbook.contacts AS ct
                WHERE ct.org_id = m.org_id AND ct.phone = m.recipient AND ct.sms_opted_out) THEN
        RETURN jsonb_build_object('code', 'opted_out', 'error', 'The patient replied STOP: no texts until they reply START');
    END IF;
    IF m.expires_at IS NOT NULL AND m.expires_at <= now_ts THEN
        RETURN jsonb_build_object('code', 'expired', 'error', 'The text was only useful until ' || internal.utc_iso(m.expires_at));
    END IF;
    IF m.appointment_id IS NOT NULL AND m.kind IN ('confirmation', 'reminder', 'reschedule', 'cancellation') THEN
        SELECT * INTO a FROM voxbook.appointments AS x WHERE x.org_id = m.org_id AND x.id = m.appointment_id;
        SELECT h.starts_at INTO starts FROM voxbook.holds AS h WHERE h.org_id = a.org_id AND h.id = a.hold_id;
        IF m.kind <> 'cancellation' AND a.status <> 'confirmed' THEN
            RETURN jsonb_build_object('code', 'cancelled', 'error', 'The appointment was cancelled since');
        END IF;
        IF starts <= now_ts THEN
            RETURN jsonb_build_object('code', 'past', 'error', 'The appointment has already started');
        END IF;
        -- Never a second copy: another text of this kind for the appointment is waiting or went out.
        IF EXISTS (SELECT 1 FROM voxbook.sms_outbox AS x
                    WHERE x.org_id = m.org_id AND x.appointment_id = m.appointment_id AND x.kind = m.kind
                      AND x.id <> m.id AND x.created_at >= m.created_at
                      AND x.status IN ('queued', 'sending', 'unknown', 'sent', 'delivered')) THEN
            RETURN jsonb_build_object('code', 'already_sent', 'error', 'A newer text of this kind is on its way or was sent');
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- Name: resolve_locale(text, text[], text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.resolve_locale(clinic_locale text, languages text[], requested text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
    tag constant text := replace(btrim(coalesce(requested, '')), '_', '-');
    lang constant text := lower(split_part(tag, '-', 1));
    asked_region constant text := upper(split_part(tag, '-', 2));
    clinic_region constant text := split_part(coalesce(clinic_locale, ''), '-', 2);
BEGIN
    IF lang !~ '^[a-z]{2,3}$' OR NOT lang = ANY (coalesce(languages, '{}')) OR NOT internal.catalogued(lang) THEN
        RETURN internal.clinic_locale(clinic_locale);
    END IF;
    IF lang = split_part(clinic_locale, '-', 1) THEN
        RETURN clinic_locale;
    END IF;
    IF clinic_region <> '' AND EXISTS (SELECT 1 FROM voxbook.locale_formats AS l WHERE l.locale = lang || '-' || clinic_region) THEN
        RETURN lang || '-' || clinic_region;
    END IF;
    IF asked_region ~ '^[A-Z]{2}$' AND EXISTS (SELECT 1 FROM voxbook.locale_formats AS l WHERE l.locale = lang || '-' || asked_region) THEN
        RETURN lang || '-' || asked_region;
    END IF;
    RETURN lang;
END
$_$;

-- Name: route_inbound_reply(uuid[], text, uuid, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.route_inbound_reply(orgs uuid[], phone text, preferred uuid, body text, message_sid text) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    target uuid := internal.sms_reply_org(orgs, phone, preferred);
BEGIN
    IF target IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN internal.route_sms_reply(target, phone, body, message_sid);
END
$$;

-- Name: route_sms_reply(uuid, text, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.route_sms_reply(org_id uuid, phone text, body text, message_sid text) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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

-- Name: schedule_reminder(uuid, uuid); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.schedule_reminder(org_id uuid, appointment_id uuid) RETURNS void
    LANGUAGE plpgsql
    AS $$
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

-- Name: send_caller_code(voxbook.organizations, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.send_caller_code(o voxbook.organizations, call_id text, number text) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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

-- Name: service_json(voxbook.services); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.service_json(s voxbook.services) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN jsonb_build_object('service_id', s.id, 'name', s.name, 'duration_minutes', s.duration_minutes,
                              'buffer_before_minutes', s.buffer_before_minutes,
                              'buffer_after_minutes', s.buffer_after_minutes, 'price_cents', s.price_cents,
                              'value_tier', s.value_tier, 'active', s.active,
                              'providers', (SELECT coalesce(jsonb_agg(p.calendar_id ORDER BY p.calendar_id), '[]')
                                              FROM voxbook.service_providers AS p
                                             WHERE p.org_id = s.org_id AND p.service_id = s.id));
END
$$;

-- Name: set_call_locale(voxbook.organizations, text, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.set_call_locale(o voxbook.organizations, vapi_call_id text, requested text, source text) RETURNS text
    LANGUAGE plpgsql
    AS $$
DECLARE
    resolved constant text := internal.resolve_locale(o.locale, o.languages, requested);
    call_key constant text := internal.vapi_call_key(vapi_call_id);
    -- A value: Citus takes only IMMUTABLE functions in the DO UPDATE of an INSERT on a distributed table.
    now_ts constant timestamptz := now();
BEGIN
    IF call_key IS NULL THEN
        RETURN resolved;
    END IF;
    INSERT INTO voxbook.call_locales AS x (org_id, vapi_call_id, locale, source, updated_at)
    VALUES (o.id, call_key, resolved, source, now_ts)
    ON CONFLICT ON CONSTRAINT call_locales_pkey
        DO UPDATE SET locale = excluded.locale, source = excluded.source, updated_at = now_ts
     WHERE x.locale IS DISTINCT FROM excluded.locale OR x.source IS DISTINCT FROM excluded.source;
    UPDATE voxbook.holds AS h SET locale = resolved, updated_at = now_ts
     WHERE h.org_id = o.id AND h.vapi_call_id = set_call_locale.vapi_call_id AND (h.status = 'held') IS TRUE
       AND h.locale IS DISTINCT FROM resolved;
    RETURN resolved;
END
$$;

-- Name: set_sms_consent(uuid, text, boolean, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.set_sms_consent(consent_org uuid, number text, opt_out boolean, why text, inbound_sid text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    now_ts timestamptz := internal.clock();
BEGIN
    INSERT INTO voxbook.contacts AS ct (org_id, phone, sms_opted_out, sms_opted_out_at, sms_opt_out_source)
    VALUES (consent_org, number, opt_out,
            CASE WHEN opt_out THEN now_ts END, why)
    ON CONFLICT ON CONSTRAINT contacts_org_id_phone_key DO UPDATE
        SET sms_opted_out = excluded.sms_opted_out,
            sms_opted_out_at = CASE WHEN ct.sms_opted_out AND excluded.sms_opted_out THEN ct.sms_opted_out_at
                                    ELSE excluded.sms_opted_out_at END,
            sms_opt_out_source = CASE WHEN ct.sms_opted_out = excluded.sms_opted_out THEN ct.sms_opt_out_source
                                      ELSE excluded.sms_opt_out_source END,
            updated_at = now_ts;
    INSERT INTO voxbook.sms_consent_events AS e (org_id, phone, opted_out, source, provider_message_id)
    VALUES (consent_org, number, opt_out, why,
            inbound_sid)
    ON CONFLICT (org_id, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING;
    IF opt_out THEN
        UPDATE voxbook.sms_outbox AS m
           SET status = 'skipped', skip_reason = 'recipient opted out (STOP)',
               body = internal.settled_body(m.body, m.redact_after_send),
               updated_at = now()
         WHERE m.org_id = consent_org AND m.recipient = number AND m.status = 'queued';
    END IF;
END
$$;

-- Name: settle_blocked_sms(voxbook.sms_outbox, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.settle_blocked_sms(m voxbook.sms_outbox, reason text) RETURNS voxbook.sms_outbox
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE voxbook.sms_outbox AS x
       SET status = CASE WHEN reason = 'appointment cancelled' THEN 'cancelled'
                         WHEN x.error_code IS NOT NULL THEN 'failed' ELSE 'skipped' END,
           skip_reason = reason,
           body = internal.settled_body(x.body, x.redact_after_send),
           locked_by = NULL, locked_at = NULL, lease_until = NULL,
           updated_at = now(), status_updated_at = now()
     WHERE x.org_id = m.org_id AND x.id = m.id
    RETURNING x.* INTO m;
    RETURN m;
END
$$;

-- Name: settled_body(text, boolean); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.settled_body(body text, redact_after_send boolean) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN redact_after_send THEN internal.redact_sms(body) ELSE body END
$$;

-- Name: setup_calendar(uuid, text, boolean); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.setup_calendar(org_id uuid, calendar_id text, lock boolean) RETURNS voxbook.calendars
    LANGUAGE plpgsql
    AS $$
DECLARE
    c voxbook.calendars;
BEGIN
    PERFORM internal.require(calendar_id, 'calendar_id');
    IF lock THEN
        c := internal.lock_calendar_change(setup_calendar.org_id, setup_calendar.calendar_id);
    ELSE
        SELECT * INTO c FROM voxbook.calendars AS x
         WHERE x.org_id = setup_calendar.org_id AND x.id = setup_calendar.calendar_id;
    END IF;
    IF c.id IS NULL THEN
        PERFORM internal.fail('VB404', 'unknown calendar',
                              'Calendar ids are per clinic (api.get_clinic lists them); api.upsert_provider adds one.', calendar_id);
    END IF;
    RETURN c;
END
$$;

-- Name: setup_invalid(text, text, text, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.setup_invalid(state text, constraint_name text, table_name text, column_name text, message text) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
    what text;
    def text;
BEGIN
    -- On Citus the error comes from a shard: names carry its id (calendars_slot_minutes_check_102037), and the
    -- fields may be missing from the error relayed: read them from the message then.
    constraint_name := coalesce(constraint_name, substring(message FROM 'constraint "([^"]+)"'));
    table_name := coalesce(table_name, substring(message FROM 'relation "([^"]+)"'));
    column_name := coalesce(column_name, substring(message FROM 'column "([^"]+)"'));
    -- (no name of ours ends in _<digits>; a shard's always does, and may exist here too: the coordinator's)
    constraint_name := regexp_replace(constraint_name, '_[0-9]+$', '');
    table_name := regexp_replace(table_name, '_[0-9]+$', '');
    IF state = '23502' THEN   -- not_null_violation
        PERFORM internal.fail('VB400', format('%s cannot be empty', column_name),
                              format('Give a value for %s, or leave it out to keep the current one.', column_name));
    END IF;
    SELECT pg_catalog.pg_get_constraintdef(c.oid) INTO def FROM pg_catalog.pg_constraint AS c
     WHERE c.conname = constraint_name AND c.conrelid = to_regclass('voxbook.' || quote_ident(table_name));
    what := regexp_replace(regexp_replace(coalesce(constraint_name, 'value'), '^' || table_name || '_', ''), '_check$', '');
    PERFORM internal.fail('VB400', format(CASE WHEN def ~ '[<>]' THEN '%s is out of range' ELSE 'invalid %s' END, what),
                          format('Allowed: %s', coalesce(def, 'see the COMMENT of the function')));
END
$_$;

-- Name: sign_in_refusal(bytea, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.sign_in_refusal(email_hash bytea, client_address text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    per_email constant int := 5;
    per_address constant int := 30;
    now_ts timestamptz := internal.clock();
    since timestamptz := now_ts - internal.sign_in_window();
    oldest_email timestamptz;
    oldest_address timestamptz;
    until_ts timestamptz;
BEGIN
    -- The per_email-th newest failure: while it is in the window, there are per_email failures in it.
    SELECT a.at INTO oldest_email FROM voxbook.sign_in_attempts AS a
     WHERE a.email_hash = sign_in_refusal.email_hash AND NOT a.succeeded AND a.at > since
     ORDER BY a.at DESC OFFSET per_email - 1 LIMIT 1;
    SELECT a.at INTO oldest_address FROM voxbook.sign_in_attempts AS a
     WHERE a.client_address = sign_in_refusal.client_address AND NOT a.succeeded AND a.at > since
     ORDER BY a.at DESC OFFSET per_address - 1 LIMIT 1;
    until_ts := greatest(oldest_email, oldest_address) + internal.sign_in_window();
    IF until_ts IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN internal.refusal('too_many_attempts', 'Too many sign-in attempts',
                            jsonb_build_object('retry_after_seconds',
                                               greatest(ceil(extract(epoch FROM until_ts - now_ts))::int, 1)));
END
$$;

-- Name: sign_in_window(); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.sign_in_window() RETURNS interval
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT interval '15 minutes' $$;

-- Name: slot_starts(voxbook.organizations, text[], integer[], interval[], date, date, timestamp with time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.slot_starts(o voxbook.organizations, cal_ids text[], slot_minutes integer[], spans interval[], first_day date, last_day date, at_instant timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS TABLE(cal_id text, starts_at timestamp with time zone, ends_at timestamp with time zone)
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
#variable_conflict use_column
DECLARE
    -- A value, not the clock inside the query: on Citus the query may run on a worker, where a clock frozen
    -- by the session (tests) is not set; the value read here is the caller's.
    now_ts timestamptz := internal.clock();
    cals text[];
    days date[];
    opens time[];
    closes time[];
BEGIN
    -- The working intervals of each calendar and day (internal.day_hours says the same for one day): its hours
    -- exceptions when it has any (one without times: not working), else its weekday's hours. A query of its own,
    -- into arrays: folded into the query below as a lateral UNION, it made that query ~20 ms to plan, paid by
    -- every session's first few calls (64 cold callers at once: a 2-3 s p99 in bench/ hot_slot).
    SELECT array_agg(x.calendar_id), array_agg(x.on_date), array_agg(x.starts), array_agg(x.ends)
      INTO cals, days, opens, closes
      FROM unnest(cal_ids) AS k(cal)
     CROSS JOIN LATERAL (
            SELECT e.calendar_id, e.on_date, e.starts, e.ends FROM voxbook.hours_exceptions AS e
             WHERE e.org_id = o.id AND e.calendar_id = k.cal AND e.on_date BETWEEN first_day AND last_day
               AND e.starts IS NOT NULL
            UNION ALL
            -- Joined calendar by calendar (working_hours' only index is its GiST exclusion constraint, which
            -- takes no "= ANY"): one index probe per calendar, not every row of the clinic's week.
            SELECT w.calendar_id, d.day::date, w.starts, w.ends
              FROM generate_series(first_day::timestamp, last_day::timestamp, interval '1 day') AS d(day)
              JOIN voxbook.working_hours AS w
                ON w.org_id = o.id AND w.calendar_id = k.cal AND w.iso_dow = extract(isodow FROM d.day)
             WHERE NOT EXISTS (SELECT 1 FROM voxbook.hours_exceptions AS e
                                WHERE e.org_id = o.id AND e.calendar_id = k.cal
                                  AND e.on_date = d.day::date)) AS x;
    RETURN QUERY
    SELECT w.cal, i.at, i.at + k.span
      FROM unnest(cals, days, opens, closes) AS w(cal, on_date, starts, ends)
      JOIN unnest(cal_ids, slot_minutes, spans) AS k(cal, slot, span) ON k.cal = w.cal
     CROSS JOIN LATERAL (SELECT w.on_date::timestamp AS day) AS d
     CROSS JOIN LATERAL generate_series(d.day + w.starts, d.day + w.ends,
                                        make_interval(mins => k.slot)) AS g(local_ts)
     CROSS JOIN LATERAL internal.local_instants(g.local_ts, o.time_zone) AS i(at)
     WHERE g.local_ts < d.day + w.ends
       AND (at_instant IS NULL OR g.local_ts = at_instant AT TIME ZONE o.time_zone)
       AND (at_instant IS NULL OR i.at = at_instant)
       AND i.at + k.span <= (d.day + w.ends) AT TIME ZONE o.time_zone
       AND i.at >= now_ts + make_interval(mins => o.min_notice_minutes)
       AND i.at <= now_ts + make_interval(days => o.booking_horizon_days)
       AND NOT EXISTS (SELECT 1 FROM voxbook.blocked_periods AS b
                        WHERE b.org_id = o.id AND (b.calendar_id = w.cal OR b.calendar_id IS NULL)
                          AND b.during && tstzrange(i.at, i.at + k.span, '[)'));
END
$$;

-- Name: sms_block_reason(voxbook.sms_outbox, timestamp with time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.sms_block_reason(m voxbook.sms_outbox, now_ts timestamp with time zone) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    h voxbook.holds;
    a_status text;
    a_hold uuid;
BEGIN
    IF m.expires_at IS NOT NULL AND m.expires_at <= now_ts THEN
        RETURN 'expired before it could be sent';
    END IF;
    IF m.kind = 'otp' AND m.hold_id IS NOT NULL THEN
        SELECT * INTO h FROM voxbook.holds AS x WHERE x.org_id = m.org_id AND x.id = m.hold_id;
        IF h.status IS DISTINCT FROM 'held' OR h.expires_at <= now_ts THEN
            RETURN 'code not sent: the hold is no longer live';
        END IF;
    END IF;
    IF m.kind = 'reminder' AND m.appointment_id IS NOT NULL THEN
        SELECT a.status, a.hold_id INTO a_status, a_hold
          FROM voxbook.appointments AS a
         WHERE a.org_id = m.org_id AND a.id = m.appointment_id;
        IF a_status IS DISTINCT FROM 'confirmed' THEN
            RETURN 'appointment cancelled';
        END IF;
        -- The reminder is stamped with the hold (the time) it was queued for (internal.schedule_reminder);
        -- a move gives the appointment a new hold and queues a new reminder. Comparing stamps, not texts:
        -- renaming the provider or the clinic, or new wording, must not drop reminders.
        IF m.reminder_hold_id IS DISTINCT FROM a_hold THEN
            RETURN 'appointment moved';
        END IF;
        IF m.reminder_starts_at <= now_ts THEN
            RETURN 'appointment already started';
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM voxbook.contacts AS ct
                WHERE ct.org_id = m.org_id AND ct.phone = m.recipient AND ct.sms_opted_out) THEN
        RETURN 'recipient opted out (STOP)';
    END IF;
    IF internal.sms_retry_deadline(m) <= now_ts THEN
        RETURN format('gave up: not sent within %s hours of being due',
                      (extract(epoch FROM internal.sms_useful_for(m.kind)) / 3600)::int);
    END IF;
    RETURN NULL;
END
$$;

-- Name: sms_error_text(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.sms_error_text(error_code text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN error_code = '30003' THEN 'the phone is off or out of reach'
                WHEN error_code = '30004' THEN 'the recipient or their carrier blocks messages'
                WHEN error_code = '30005' THEN 'the number does not exist or is no longer in service'
                WHEN error_code = '30006' THEN 'a landline, or a carrier that cannot receive texts'
                WHEN error_code = '30007' THEN 'filtered by the carrier as spam'
                WHEN error_code = '30008' THEN 'the carrier gave no reason'
                WHEN error_code IN ('30032', '30034') THEN 'the clinic''s sending number is not yet registered for texts'
                WHEN error_code = '21211' THEN 'the number is not a valid phone number'
                WHEN error_code = '21408' THEN 'texts to that country are not enabled for the clinic'
                WHEN error_code = '21610' THEN 'the patient replied STOP'
                WHEN error_code = '21612' THEN 'the carrier cannot route a text to that number'
                WHEN error_code = '21614' THEN 'the number cannot receive texts (not a mobile)'
                WHEN error_code IN ('20003', '20429', '30001', '30002') THEN 'the clinic''s SMS account could not send it'
           END
$$;

-- Name: sms_parts(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.sms_parts(body text, OUT encoding text, OUT segments integer) RETURNS record
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
    septets int;
    units int;
BEGIN
    IF body = internal.gsm7(body) THEN
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

-- Name: sms_problem_reason(voxbook.sms_outbox); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.sms_problem_reason(m voxbook.sms_outbox) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT coalesce(internal.sms_error_text(m.error_code), m.skip_reason, m.error_message,
                    CASE WHEN m.error_code IS NOT NULL THEN 'carrier error ' || m.error_code END,
                    CASE WHEN m.status = 'undelivered' THEN 'the carrier could not deliver it' END, m.status)
$$;

-- Name: sms_reply_org(uuid[], text, uuid); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.sms_reply_org(orgs uuid[], phone text, preferred uuid) RETURNS uuid
    LANGUAGE plpgsql STABLE
    AS $$
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

-- Name: sms_reply_word(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.sms_reply_word(body text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $_$
    SELECT CASE WHEN w IN ('C', 'CONFIRM', 'CONFIRMED', 'CONFIRMAR', 'CONFIRMO', 'CONFIRMADO') THEN 'confirm'
                WHEN w IN ('R', 'RESCHEDULE', 'CAMBIAR', 'REPROGRAMAR') THEN 'reschedule' END
      FROM (SELECT upper(regexp_replace(btrim(coalesce(body, '')), '[[:space:].!]+$', '')) AS w) AS x
$_$;

-- Name: sms_retry_deadline(voxbook.sms_outbox); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.sms_retry_deadline(m voxbook.sms_outbox) RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    AS $$
    SELECT least(m.expires_at,
                 CASE WHEN m.kind = 'reminder' THEN m.reminder_starts_at END,
                 coalesce(m.first_attempt_at, m.send_after) + internal.sms_useful_for(m.kind))
$$;

-- Name: sms_status_rank(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.sms_status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN status IN ('queued', 'cancelled', 'skipped') THEN 0
                WHEN status IN ('sending', 'unknown') THEN 1
                WHEN status = 'sent' THEN 2
                WHEN status IN ('delivered', 'undelivered', 'failed') THEN 3 END
$$;

-- Name: sms_useful_for(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.sms_useful_for(kind text) RETURNS interval
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN kind IN ('otp', 'reminder') THEN NULL
                WHEN kind = 'hot_lead' THEN interval '6 hours'   -- an owner's alert about a call: same day or never
                ELSE interval '24 hours' END                      -- confirmation, cancellation, reschedule, other
$$;

-- Name: spoken_line(text, jsonb, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.spoken_line(function_name text, result jsonb, language text, time_zone text DEFAULT NULL::text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    ok boolean := coalesce((result->>'success')::boolean, false);
    outcome text := CASE WHEN ok THEN 'success' ELSE result->>'code' END;
    tz constant text := coalesce(result->>'time_zone', spoken_line.time_zone);
    tag constant text := coalesce(spoken_line.language, 'en');
    -- en-US, the default, without reading a table (internal.field_locale does the same): a claim's line is said
    -- in it at most clinics, and the lookup was ~10 % of a tool call (bench/README.md, issue 18).
    loc constant jsonb := CASE WHEN tag = 'en-US' THEN internal.default_locale_formats() ELSE internal.locale(tag) END;
    base constant text := split_part(tag, '-', 1);
    args jsonb := jsonb_build_object('local_time', CASE WHEN tz IS NOT NULL AND result ? 'starts_at'
                                                        THEN internal.local_text((result->>'starts_at')::timestamptz, tz, loc)
                                                        ELSE result->>'local_time' END,
                                     'provider', result->>'provider',
                                     'code_length', result->>'code_length',
                                     'retries_left', result->>'retries_left', 'error', result->>'error');
    slots jsonb := coalesce(result->'slots', '[]');
    days text[];
    key_ text;
    template text;
    line text;
    refusal text;
BEGIN
    IF function_name = 'check_availability' THEN
        IF jsonb_array_length(slots) = 0 THEN
            RETURN internal.message('spoken.check_availability.none', language);
        END IF;
        days := internal.distinct_texts(ARRAY(
                    SELECT internal.local_day((s->>'time')::timestamptz, tz, loc)
                      FROM jsonb_array_elements(slots) WITH ORDINALITY AS x(s, i) ORDER BY i));
        IF cardinality(days) = 1 THEN
            line := internal.message('spoken.check_availability.one_day', language, jsonb_build_object(
                        'day', days[1],
                        'times', internal.or_list(internal.spread(internal.distinct_texts(ARRAY(
                                     SELECT CASE WHEN tz IS NOT NULL AND s ? 'time'
                                                 THEN internal.spoken_time((s->>'time')::timestamptz, tz, loc)
                                                 ELSE s->>'spoken_time' END
                                       FROM jsonb_array_elements(slots) WITH ORDINALITY AS x(s, i)
                                      ORDER BY i))), language)));
        ELSE
            line := internal.message('spoken.check_availability.days', language, jsonb_build_object(
                        'times', internal.or_list(internal.spread(internal.distinct_texts(ARRAY(
                                     SELECT CASE WHEN tz IS NOT NULL AND s ? 'time'
                                                 THEN internal.local_text((s->>'time')::timestamptz, tz, loc)
                                                 ELSE s->>'local_time' END
                                       FROM jsonb_array_elements(slots) WITH ORDINALITY AS x(s, i)
                                      ORDER BY i))), language)));
        END IF;
        -- The database says whether it left free times out (spread or max_slots).
        IF coalesce((result->>'more')::boolean, false) THEN
            line := line || ' ' || internal.message('spoken.check_availability.more', language);
        END IF;
        RETURN line;
    END IF;
    -- A caller's own appointments, listed (42_my_appointments.sql): the list is worded there.
    IF function_name IN ('find_my_appointments', 'cancel_my_appointment', 'reschedule_my_appointment')
       AND outcome IN ('success', 'ambiguous', 'not_found') AND result ? 'appointments' THEN
        RETURN internal.my_appointments_line(function_name, result, language, tz, loc);
    END IF;
    IF function_name = 'cancel_appointment' AND result->>'status' IS DISTINCT FROM 'cancelled' THEN
        outcome := CASE WHEN ok THEN NULL ELSE outcome END;   -- not cancelled: no success line
    END IF;
    IF outcome = 'slot_taken' THEN
        IF jsonb_array_length(coalesce(result->'alternatives', '[]')) = 0 THEN
            outcome := 'slot_taken.none';
        ELSE
            args := args || jsonb_build_object('offer', internal.spoken_offer(result, language, tz, loc));
        END IF;
    ELSIF outcome = 'wrong_code' AND result->>'retries_left' = '1' THEN
        outcome := 'wrong_code.one';
    END IF;
    -- The tool's own line, else the line shared by tools, each in the language's row, else its base
    -- language's, else English (internal.template: what internal.message picks for a key).
    key_ := 'spoken.' || function_name || '.' || outcome;
    template := internal.template(key_, tag, base);
    IF template IS NULL THEN
        key_ := 'spoken.' || outcome;
        template := internal.template(key_, tag, base);
    END IF;
    IF template IS NOT NULL THEN
        RETURN internal.fill_template(key_, template, args);
    END IF;
    IF coalesce(result->>'error', '') = '' THEN
        RETURN internal.message('spoken.failed', language);
    END IF;
    -- The functions word their refusals in English (their "error" is for the API too): a caller in another
    -- language hears refusal.<code> of the catalogue when it has one and the result fills its placeholders.
    IF base <> 'en' THEN
        SELECT m.template INTO refusal FROM voxbook.message_templates AS m
         WHERE m.key = 'refusal.' || outcome AND m.language IN (spoken_line.language, base)
         ORDER BY m.language = spoken_line.language DESC LIMIT 1;
        IF refusal IS NOT NULL AND NOT EXISTS (SELECT 1 FROM regexp_matches(refusal, '\{([a-z_]+)\}', 'g') AS x(m)
                                                WHERE NOT result ? x.m[1]) THEN
            args := args || jsonb_build_object('error', internal.message('refusal.' || outcome, language, result));
        END IF;
    END IF;
    RETURN internal.message('spoken.refused', language, args);
END
$$;

-- Name: spoken_offer(jsonb, text, text, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.spoken_offer(result jsonb, language text, tz text DEFAULT NULL::text, loc jsonb DEFAULT NULL::jsonb) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN internal.or_list(ARRAY(
               SELECT CASE WHEN a->>'calendar_id' IS NOT DISTINCT FROM result->>'calendar_id' THEN t.spoken
                            ELSE internal.message('spoken.offer.with_provider', language,
                                                  jsonb_build_object('spoken_time', t.spoken,
                                                                     'provider', a->>'provider')) END
                 FROM jsonb_array_elements(coalesce(result->'alternatives', '[]')) WITH ORDINALITY AS x(a, i),
                      LATERAL (SELECT CASE WHEN tz IS NOT NULL AND loc IS NOT NULL AND a ? 'time'
                                           THEN internal.spoken_time((a->>'time')::timestamptz, tz, loc)
                                           ELSE a->>'spoken_time' END AS spoken) AS t
                ORDER BY i), language);
END
$$;

-- Name: spoken_time(timestamp with time zone, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.spoken_time(ts timestamp with time zone, tz text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN internal.spoken_time(ts, tz, internal.default_locale_formats());
END
$$;

-- Name: spoken_time(timestamp with time zone, text, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.spoken_time(ts timestamp with time zone, tz text, loc jsonb) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT internal.spoken_time_of(ts AT TIME ZONE tz, loc)
$$;

-- Name: spoken_time_of(timestamp without time zone, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.spoken_time_of(lt timestamp without time zone, loc jsonb) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT internal.fill_time(CASE WHEN extract(minute FROM lt) = 0
                                   THEN loc->>'spoken_hour_template' ELSE loc->>'spoken_time_template' END,
                              lt, loc)
$$;

-- Name: spread(text[], integer); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.spread(items text[], n integer DEFAULT 3) RETURNS text[]
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN cardinality(items) <= n THEN items
                ELSE ARRAY(SELECT items[p + 1] FROM (
                               SELECT DISTINCT CASE WHEN 2 * (k % (n - 1)) = n - 1 AND (k / (n - 1)) % 2 = 0
                                                    THEN k / (n - 1)
                                                    ELSE round(k / (n - 1.0))::int END AS p
                                 FROM generate_series(0, n - 1) AS i,
                                      LATERAL (SELECT i * (cardinality(items) - 1) AS k) AS kk) AS x
                            ORDER BY p) END
$$;

-- Name: staff_email(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.staff_email(email text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
DECLARE
    e text := lower(btrim(email));
BEGIN
    IF e IS NULL OR length(e) NOT BETWEEN 3 AND 254 OR e !~ '^[^@[:space:]]+@[^@[:space:]]+$' THEN
        PERFORM internal.fail('VB400', 'email must be an email address (at most 254 characters)',
                              'Pass the person''s work email, e.g. ana@clinic.example.');
    END IF;
    RETURN e;
END
$_$;

-- Name: staff_json(voxbook.staff_accounts); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.staff_json(s voxbook.staff_accounts) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object('staff_id', s.id, 'email', s.email, 'name', s.name, 'role', s.role,
                              'status', s.status, 'created_at', internal.utc_iso(s.created_at),
                              'last_sign_in_at', internal.utc_iso(s.last_sign_in_at))
$$;

-- Name: staff_role(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.staff_role(role text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF role IS NULL OR role NOT IN ('owner', 'front_desk') THEN
        PERFORM internal.fail('VB400', 'role must be owner or front_desk',
                              'owner: settings and staff accounts; front_desk: schedule and queues.');
    END IF;
    RETURN role;
END
$$;

-- Name: store_clinic(voxbook.organizations, voxbook.organizations); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.store_clinic(o voxbook.organizations, old voxbook.organizations) RETURNS voxbook.organizations
    LANGUAGE plpgsql
    AS $_$
DECLARE
    cols text[];
    stored voxbook.organizations;
    st text; cn text; tn text; col text; msg text;
BEGIN
    SELECT array_agg(n.key ORDER BY n.key) INTO cols
      FROM jsonb_each(to_jsonb(o)) AS n
      LEFT JOIN jsonb_each(to_jsonb(old)) AS p ON p.key = n.key
     WHERE n.key <> 'created_at' AND (old.id IS NULL AND n.value <> 'null'::jsonb OR old.id IS NOT NULL AND p.value IS DISTINCT FROM n.value);
    IF old.id IS NULL THEN
        EXECUTE format('INSERT INTO voxbook.organizations AS x (%s) SELECT %s FROM jsonb_populate_record(NULL::voxbook.organizations, $1) AS n RETURNING x.*',
                       (SELECT string_agg(quote_ident(c), ', ') FROM unnest(cols) AS c),
                       (SELECT string_agg('n.' || quote_ident(c), ', ') FROM unnest(cols) AS c))
           INTO stored USING to_jsonb(o);
    ELSIF cols IS NULL THEN
        RETURN old;
    ELSE
        EXECUTE format('UPDATE voxbook.organizations AS x SET %s FROM jsonb_populate_record(NULL::voxbook.organizations, $1) AS n WHERE x.id = $2 RETURNING x.*',
                       (SELECT string_agg(format('%I = n.%I', c, c), ', ') FROM unnest(cols) AS c))
           INTO stored USING to_jsonb(o), old.id;
    END IF;
    RETURN stored;
EXCEPTION
    WHEN unique_violation THEN
        PERFORM internal.fail('VB409', 'another clinic answers on this phone number',
                              'Each clinic has its own number callers dial; check the number, or update that clinic.');
    WHEN check_violation OR not_null_violation THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, cn = CONSTRAINT_NAME, tn = TABLE_NAME, col = COLUMN_NAME, msg = MESSAGE_TEXT;
        PERFORM internal.setup_invalid(st, nullif(cn, ''), nullif(tn, ''), nullif(col, ''), msg);
END
$_$;

-- Name: template(text, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.template(key text, tag text, base text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    found_template text;
BEGIN
    SELECT coalesce(max(m.template) FILTER (WHERE m.language = tag), max(m.template) FILTER (WHERE m.language = base),
                    max(m.template) FILTER (WHERE m.language = 'en'))
      INTO found_template
      FROM voxbook.message_templates AS m
     WHERE m.key = template.key AND m.language IN (tag, base, 'en');
    RETURN found_template;
END
$$;

-- Name: token_hash(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.token_hash(token text) RETURNS bytea
    LANGUAGE sql STABLE
    AS $$
    SELECT sha256(convert_to(token, 'UTF8'))
$$;

-- Name: tool_functions(); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.tool_functions() RETURNS text[]
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT ARRAY['check_availability', 'claim_slot_atomic', 'send_otp_code', 'verify_otp',
                 'send_confirmation_sms', 'cancel_appointment', 'reschedule_appointment',
                 'find_my_appointments', 'cancel_my_appointment', 'reschedule_my_appointment', 'join_waitlist']
$$;

-- Name: tool_response(voxbook.organizations, text, jsonb, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.tool_response(o voxbook.organizations, function_name text, args jsonb, call_id text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
DECLARE
    org_id constant uuid := o.id;
    arg_list text;
    r jsonb;
    tag text;
BEGIN
    IF coalesce(btrim(args->>'language'), '') <> '' THEN
        tag := internal.set_call_locale(o, call_id, args->>'language', 'argument');
    ELSE
        tag := internal.call_locale(o, call_id);
    END IF;
    args := args - 'language';
    -- (Its keys checked by one expression, not a query over jsonb_object_keys: nothing to start per call.)
    IF function_name = 'claim_slot_atomic'
       AND args - ARRAY['calendar_id', 'slot_time', 'call_sid', 'patient_name', 'patient_phone', 'hold_minutes',
                        'service'] = '{}'::jsonb THEN
        -- The hot tool (every booking), as a static call: the dynamic statement below is parsed and planned
        -- anew for every call (its literals differ), ~0.2 ms of a ~0.8 ms tool call (bench/README.md). The same
        -- call: every parameter of claim_slot_atomic defaults to NULL, so an absent key and a JSON null are one;
        -- the casts are the parameters' input functions, as for the literals below (the same SQLSTATEs).
        -- Any other key takes the general path, which refuses it as PostgreSQL does.
        r := api.claim_slot_atomic(org_id => org_id, calendar_id => args->>'calendar_id',
                                   slot_time => (args->>'slot_time')::timestamptz, call_sid => args->>'call_sid',
                                   patient_name => args->>'patient_name', patient_phone => args->>'patient_phone',
                                   hold_minutes => (args->>'hold_minutes')::int, service => args->>'service');
    ELSE
        -- Named arguments as untyped literals: PostgreSQL casts each to its parameter's type and rejects a
        -- bad value (22P02, 22007, ...) exactly as for a direct call. Names are quoted identifiers.
        SELECT string_agg(format(', %I => %L', a.key, a.value), '') INTO arg_list FROM jsonb_each_text(args) AS a;
        EXECUTE format('SELECT api.%I(org_id => $1%s)', function_name, coalesce(arg_list, '')) INTO r USING org_id;
    END IF;
    -- A refusal whose line promises a person records the callback request it promises (52_front_desk.sql);
    -- a success promises none (callback_for_refusal returns at once for it: not called at all).
    IF NOT coalesce((r->>'success')::boolean, false) THEN
        PERFORM internal.callback_for_refusal(o, function_name, args, r, call_id);
    END IF;
    RETURN jsonb_build_object('answer', r, 'spoken', internal.spoken_line(function_name, r, tag, o.time_zone));
END
$_$;

-- Name: twilio_status_rank(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.twilio_status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN lower(status) IN ('accepted', 'scheduled', 'queued') THEN 1
                WHEN lower(status) = 'sending' THEN 2
                WHEN lower(status) = 'sent' THEN 3
                WHEN lower(status) IN ('delivered', 'undelivered', 'failed', 'canceled', 'partially_delivered') THEN 4
                WHEN lower(status) = 'read' THEN 5 ELSE 0 END
$$;

-- Name: twilio_status_to_ours(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.twilio_status_to_ours(status text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN lower(status) IN ('accepted', 'scheduled', 'queued', 'sending', 'sent') THEN 'sent'
                WHEN lower(status) IN ('delivered', 'read') THEN 'delivered'
                WHEN lower(status) IN ('undelivered', 'partially_delivered') THEN 'undelivered'
                WHEN lower(status) IN ('failed', 'canceled') THEN 'failed' END
$$;

-- Name: utc_iso(timestamp with time zone); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.utc_iso(ts timestamp with time zone) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- Name: vapi_call_key(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.vapi_call_key(vapi_call_id text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN length(vapi_call_id) <= 200 THEN vapi_call_id
                ELSE left(vapi_call_id, 167) || '~' || md5(vapi_call_id) END
$$;

-- Name: waitlist_accept_word(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.waitlist_accept_word(body text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $_$
    SELECT upper(regexp_replace(btrim(coalesce(body, '')), '[[:space:].!]+$', '')) IN ('BOOK', '1')
$_$;

-- Name: waitlist_reply(uuid, text, text, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.waitlist_reply(org_id uuid, phone text, body text, message_sid text) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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

-- Name: waitlist_sweep(uuid, integer, integer); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.waitlist_sweep(org_id uuid, max_offers integer, reply_minutes integer) RETURNS integer
    LANGUAGE plpgsql
    AS $$
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

-- Name: waitlist_text(text, voxbook.organizations, text, timestamp with time zone, text, integer); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.waitlist_text(key text, o voxbook.organizations, tag text, starts timestamp with time zone, provider text, minutes integer DEFAULT NULL::integer) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    loc constant text := coalesce(tag, internal.clinic_locale(o.locale));
BEGIN
    RETURN internal.gsm7(internal.message(key, loc,
               internal.when_parts(starts, o.time_zone, internal.field_locale(o.locale, tag))
               || jsonb_build_object('clinic', o.name, 'provider', provider, 'minutes', minutes,
                                     'clinic_phone', internal.display_phone(o.phone, o.country))));
END
$$;

-- Name: week_json(uuid, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.week_json(org_id uuid, calendar_id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN (SELECT coalesce(jsonb_object_agg((internal.day_keys())[d.iso_dow], d.intervals), '{}')
              FROM (SELECT w.iso_dow,
                           jsonb_agg(jsonb_build_array(internal.hhmm(w.starts), internal.hhmm(w.ends)) ORDER BY w.starts) AS intervals
                      FROM voxbook.working_hours AS w
                     WHERE w.org_id = week_json.org_id AND w.calendar_id = week_json.calendar_id
                     GROUP BY w.iso_dow) AS d);
END
$$;

-- Name: weekday_number(text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.weekday_number(word text) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE
    AS $$
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

-- Name: when_parts(timestamp with time zone, text); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.when_parts(ts timestamp with time zone, tz text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN internal.when_parts(ts, tz, internal.default_locale_formats());
END
$$;

-- Name: when_parts(timestamp with time zone, text, jsonb); Type: FUNCTION; Schema: internal; Owner: -

CREATE FUNCTION internal.when_parts(ts timestamp with time zone, tz text, loc jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object('day', internal.local_day(ts, tz, loc), 'spoken_time', internal.spoken_time(ts, tz, loc),
                              'local_time', internal.local_text(ts, tz, loc))
$$;

-- Name: distribute_if_citus(regclass); Type: PROCEDURE; Schema: voxbook; Owner: -

CREATE PROCEDURE voxbook.distribute_if_citus(IN tbl regclass)
    LANGUAGE plpgsql
    AS $_$
DECLARE
    distributed boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RETURN;   -- a single PostgreSQL
    END IF;
    -- Dynamic SQL: the Citus catalog exists only with the extension.
    EXECUTE $q$SELECT EXISTS (SELECT 1 FROM pg_dist_partition
                               WHERE logicalrelid = 'voxbook.holds'::regclass AND partmethod = 'h')$q$ INTO distributed;
    IF NOT distributed THEN
        RAISE NOTICE '% is left to db/citus/10_distribute_tables.sql: the database is not distributed yet', tbl;
        RETURN;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = $1 AND (partmethod = ''h'' OR repmodel = ''t''))'
       INTO distributed USING tbl;
    IF distributed THEN
        RETURN;   -- done already
    END IF;
    -- One connection per node for the rest of the transaction, as db/citus does: DDL on several distributed
    -- tables of one transaction (the table, then keys between it and others).
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                WHERE attrelid = tbl AND attname = 'org_id' AND attnum > 0 AND NOT attisdropped) THEN
        EXECUTE 'SELECT create_distributed_table($1, ''org_id'', colocate_with => ''voxbook.holds'')' USING tbl;
        RAISE NOTICE '% is distributed by org_id', tbl;
        RETURN;
    END IF;
    EXECUTE 'SELECT create_reference_table($1)' USING tbl;
    RAISE NOTICE '% is a reference table', tbl;
END
$_$;

-- Name: PROCEDURE distribute_if_citus(IN tbl regclass); Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON PROCEDURE voxbook.distribute_if_citus(IN tbl regclass) IS 'For migrations: on a database Citus already distributes, distribute a table just created (by org_id, colocated with holds; a table without org_id as a reference table), before keys to other tables are added. Elsewhere a no-op (db/citus/10_distribute_tables.sql distributes every table after the migrations). A procedure (CALL voxbook.distribute_if_citus(''voxbook.x'')): a SELECT in a migration prints its result.';

-- Name: protect_referenced_by_holds(); Type: FUNCTION; Schema: voxbook; Owner: -

CREATE FUNCTION voxbook.protect_referenced_by_holds() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- TG_ARGV[0]: the holds column that names this table's rows, 'calendar_id' or 'service_id'.
    IF EXISTS (SELECT 1 FROM voxbook.holds AS h
                WHERE h.org_id = OLD.org_id
                  AND CASE WHEN TG_ARGV[0] = 'calendar_id' THEN h.calendar_id ELSE h.service_id END = OLD.id) THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('%s %s is referred to by holds or appointments', split_part(TG_ARGV[0], '_', 1), OLD.id),
            HINT = 'Keep it (a calendar can be deactivated: UPDATE voxbook.calendars SET active = false).';
    END IF;
    RETURN OLD;
END
$$;

-- Name: audit_log; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.audit_log (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    changed_by text NOT NULL,
    action text NOT NULL,
    entity text NOT NULL,
    entity_id text,
    before jsonb,
    after jsonb,
    CONSTRAINT audit_log_action_check CHECK ((action ~ '^[a-z][a-z_]{0,62}$'::text)),
    CONSTRAINT audit_log_changed_by_check CHECK (((length(changed_by) >= 1) AND (length(changed_by) <= 200))),
    CONSTRAINT audit_log_entity_check CHECK ((entity = ANY (ARRAY['clinic'::text, 'provider'::text, 'service'::text, 'hours'::text, 'hours_exception'::text, 'blocked_period'::text, 'appointment'::text, 'sms'::text, 'waitlist'::text, 'staff_account'::text])))
);

-- Name: TABLE audit_log; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.audit_log IS 'Every change a person made to a clinic''s set-up or appointments through the api: who (changed_by: the argument, else the database user), when, what (action, entity, entity_id), and the row before and after (jsonb; NULL before = created, NULL after = removed). Written by internal.audit; read with api.list_audit.';

-- Name: blocked_periods_id_seq; Type: SEQUENCE; Schema: voxbook; Owner: -

ALTER TABLE voxbook.blocked_periods ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME voxbook.blocked_periods_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- Name: calendar_feed_tokens; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.calendar_feed_tokens (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    calendar_id text NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT calendar_feed_tokens_token_hash_check CHECK ((length(token_hash) = 32))
);

-- Name: TABLE calendar_feed_tokens; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.calendar_feed_tokens IS 'Subscription tokens of provider calendar feeds (GET /calendars/{calendar}.ics?token=...); sha256 only.';

-- Name: calendar_pushes; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.calendar_pushes (
    org_id uuid NOT NULL,
    connection_id uuid NOT NULL,
    appointment_id uuid NOT NULL,
    href text NOT NULL,
    etag text,
    starts_at timestamp with time zone NOT NULL,
    ends_at timestamp with time zone NOT NULL,
    title text NOT NULL,
    pushes integer DEFAULT 1 NOT NULL,
    pushed_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT calendar_pushes_etag_check CHECK ((length(etag) <= 500)),
    CONSTRAINT calendar_pushes_href_check CHECK ((length(href) <= 2500)),
    CONSTRAINT calendar_pushes_title_check CHECK ((length(title) <= 400))
);

-- Name: TABLE calendar_pushes; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.calendar_pushes IS 'The event each appointment has in its provider''s external calendar (href, ETag, the times and title written). No row: not pushed yet, or deleted there after a cancellation.';

-- Name: call_locales; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.call_locales (
    org_id uuid NOT NULL,
    vapi_call_id text NOT NULL,
    locale text NOT NULL,
    source text NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT call_locales_locale_check CHECK ((locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$'::text)),
    CONSTRAINT call_locales_source_check CHECK ((source = ANY (ARRAY['detected'::text, 'argument'::text]))),
    CONSTRAINT call_locales_vapi_call_id_check CHECK (((length(vapi_call_id) >= 1) AND (length(vapi_call_id) <= 200)))
);

-- Name: TABLE call_locales; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.call_locales IS 'The caller''s language of a running call (Vapi''s call.id), as the locale its texts use (the language in the clinic''s region, e.g. es-US): from the assistant''s language detection or a tool''s language argument, resolved against the clinic''s languages (internal.resolve_locale). Read when the call makes a hold.';

-- Name: caller_verifications; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.caller_verifications (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    vapi_call_id text NOT NULL,
    phone voxbook.e164 NOT NULL,
    otp_salt bytea,
    otp_hash bytea,
    otp_sends integer DEFAULT 0 NOT NULL,
    otp_attempts integer DEFAULT 0 NOT NULL,
    sent_at timestamp with time zone,
    expires_at timestamp with time zone,
    verified_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

-- Name: TABLE caller_verifications; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.caller_verifications IS 'A call proving, with a code texted to that number, that it speaks for a phone number it does not call from (api.find_my_appointments); verified_at set once the code matched. Codes stored as HMAC only.';

-- Name: COLUMN caller_verifications.otp_hash; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.caller_verifications.otp_hash IS 'HMAC-SHA256 of otp_salt || code keyed by the voxbook.code_pepper role setting; never the plain code.';

-- Name: code_events; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.code_events (
    org_id uuid NOT NULL,
    id bigint NOT NULL,
    kind text NOT NULL,
    at timestamp with time zone NOT NULL,
    phone voxbook.e164 NOT NULL,
    vapi_call_id text,
    hold_id uuid,
    CONSTRAINT code_events_kind_check CHECK ((kind = ANY (ARRAY['send'::text, 'failure'::text])))
);

-- Name: TABLE code_events; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.code_events IS 'Code sends and wrong guesses, counted by the sliding-window limits of api.send_otp_code and api.verify_otp; rows older than a day are deleted by the next send of their clinic.';

-- Name: COLUMN code_events.vapi_call_id; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.code_events.vapi_call_id IS 'Vapi''s call.id of the hold''s call, counted by the per-call code limits.';

-- Name: COLUMN code_events.hold_id; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.code_events.hold_id IS 'The hold the code was for; NULL for a code proving a caller (voxbook.caller_verifications).';

-- Name: code_events_id_seq; Type: SEQUENCE; Schema: voxbook; Owner: -

ALTER TABLE voxbook.code_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME voxbook.code_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- Name: code_limit_locks; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.code_limit_locks (
    org_id uuid NOT NULL
);

-- Name: TABLE code_limit_locks; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.code_limit_locks IS 'One row per clinic (made on its first code), row-locked by internal.code_rate_limit so that parallel code sends and guesses of a clinic cannot outrun its limits. A row, not an advisory lock: on Citus an advisory lock holds only on the node that took it.';

-- Name: contacts; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.contacts (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    phone voxbook.e164 NOT NULL,
    name text,
    booking_source text,
    booking_completed_at timestamp with time zone,
    last_booking_hold_id uuid,
    sms_opted_out boolean DEFAULT false NOT NULL,
    sms_opted_out_at timestamp with time zone,
    sms_opt_out_source text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT contacts_booking_source_check CHECK ((booking_source = ANY (ARRAY['phone_ai'::text, 'web'::text, 'manual'::text, 'import'::text]))),
    CONSTRAINT contacts_check CHECK ((sms_opted_out = (sms_opted_out_at IS NOT NULL)))
);

-- Name: countries; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.countries (
    iso_code text NOT NULL,
    calling_code text NOT NULL,
    main_region boolean NOT NULL,
    national_prefix text,
    national_prefix_for_parsing text,
    national_prefix_transform_rule text,
    international_prefix text,
    possible_lengths integer[] NOT NULL,
    national_number_pattern text NOT NULL,
    example text,
    CONSTRAINT countries_calling_code_check CHECK ((calling_code ~ '^[1-9][0-9]{0,2}$'::text)),
    CONSTRAINT countries_iso_code_check CHECK ((iso_code ~ '^[A-Z]{2}$'::text)),
    CONSTRAINT countries_national_prefix_check CHECK ((national_prefix ~ '^[0-9]{1,5}$'::text)),
    CONSTRAINT countries_possible_lengths_check CHECK ((cardinality(possible_lengths) > 0))
);

-- Name: TABLE countries; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.countries IS 'How phone numbers are read in each region libphonenumber knows; rows written by db/functions/18_country_data.sql (generated: python -m voxbook.phone_data).';

-- Name: COLUMN countries.main_region; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.countries.main_region IS 'The region whose rules read +<calling_code> numbers (libphonenumber''s main country for the code: US for 1, GB for 44).';

-- Name: COLUMN countries.national_prefix; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.countries.national_prefix IS 'Trunk prefix dialled before a national number (0 in GB, 1 in the US); NULL where numbers keep their leading 0 (IT).';

-- Name: COLUMN countries.national_prefix_for_parsing; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.countries.national_prefix_for_parsing IS 'Regular expression, matched at the start of a national number, of the prefix to strip (libphonenumber''s nationalPrefixForParsing).';

-- Name: COLUMN countries.national_prefix_transform_rule; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.countries.national_prefix_transform_rule IS 'Replacement for what national_prefix_for_parsing matched, with \1 for its groups, where the prefix is not simply dropped.';

-- Name: COLUMN countries.international_prefix; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.countries.international_prefix IS 'Regular expression of the prefix dialled before a foreign calling code (00, 011 in the US).';

-- Name: COLUMN countries.possible_lengths; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.countries.possible_lengths IS 'Possible lengths of a national significant number (the digits after the calling code, trunk prefix stripped).';

-- Name: COLUMN countries.national_number_pattern; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.countries.national_number_pattern IS 'Regular expression every national significant number of the region matches: a leading trunk prefix is not stripped when the number matches it only with the prefix.';

-- Name: COLUMN countries.example; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.countries.example IS 'A mobile number as dialled in the country, for hints.';

-- Name: dashboard_sessions; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.dashboard_sessions (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    token_id uuid,
    session_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    staff_id uuid NOT NULL,
    CONSTRAINT dashboard_sessions_session_hash_check CHECK ((length(session_hash) = 32))
);

-- Name: TABLE dashboard_sessions; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.dashboard_sessions IS 'Browser sessions of the dashboard (cookie = session secret; only its sha256 is stored).';

-- Name: COLUMN dashboard_sessions.staff_id; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.dashboard_sessions.staff_id IS 'The staff member signed in: role and status are read at every request, so a change applies at the next one.';

-- Name: dashboard_tokens; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.dashboard_tokens (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    token_hash bytea NOT NULL,
    label text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT dashboard_tokens_label_check CHECK ((length(label) <= 200)),
    CONSTRAINT dashboard_tokens_token_hash_check CHECK ((length(token_hash) = 32))
);

-- Name: TABLE dashboard_tokens; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.dashboard_tokens IS 'Dashboard logins of a clinic: sha256 of the token only (api.issue_dashboard_token shows the token once).';

-- Name: hot_lead_alerts; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.hot_lead_alerts (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    call_id uuid NOT NULL,
    score integer NOT NULL,
    sms_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    acknowledged_at timestamp with time zone
);

-- Name: hours_exceptions; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.hours_exceptions (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    calendar_id text NOT NULL,
    on_date date NOT NULL,
    starts time without time zone,
    ends time without time zone,
    reason text,
    CONSTRAINT hours_exceptions_check CHECK ((((starts IS NULL) = (ends IS NULL)) AND ((starts IS NULL) OR (starts < ends)))),
    CONSTRAINT hours_exceptions_reason_check CHECK ((length(reason) <= 500))
);

-- Name: TABLE hours_exceptions; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.hours_exceptions IS 'Date exceptions to a provider''s weekly hours (local wall-clock times of the clinic''s zone): all rows of a (calendar, date) replace that weekday''s working_hours on that date; one row with NULL starts/ends = not working that day. Set with api.set_hours_exception.';

-- Name: locale_formats; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.locale_formats (
    locale text NOT NULL,
    hour_cycle integer NOT NULL,
    months_abbr text[] NOT NULL,
    months_wide text[] NOT NULL,
    weekdays_abbr text[] NOT NULL,
    weekdays_wide text[] NOT NULL,
    am text NOT NULL,
    pm text NOT NULL,
    day_pattern text NOT NULL,
    time_pattern text NOT NULL,
    day_time_pattern text NOT NULL,
    day_template text NOT NULL,
    day_time_template text NOT NULL,
    spoken_hour_template text NOT NULL,
    spoken_time_template text NOT NULL,
    CONSTRAINT locale_formats_hour_cycle_check CHECK ((hour_cycle = ANY (ARRAY[12, 24]))),
    CONSTRAINT locale_formats_locale_check CHECK ((locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$'::text)),
    CONSTRAINT locale_formats_months_abbr_check CHECK ((cardinality(months_abbr) = 12)),
    CONSTRAINT locale_formats_months_wide_check CHECK ((cardinality(months_wide) = 12)),
    CONSTRAINT locale_formats_weekdays_abbr_check CHECK ((cardinality(weekdays_abbr) = 7)),
    CONSTRAINT locale_formats_weekdays_wide_check CHECK ((cardinality(weekdays_wide) = 7))
);

-- Name: TABLE locale_formats; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.locale_formats IS 'How each locale writes a day, a day and time, and a spoken time: month and weekday names (weekdays Monday first), day periods, the CLDR patterns and the {field} templates internal.fill_time fills. Generated from CLDR (babel) into db/functions/19_locale_data.sql and written on every migrate.';

-- Name: message_templates; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.message_templates (
    language text NOT NULL,
    key text NOT NULL,
    template text NOT NULL,
    CONSTRAINT message_templates_key_check CHECK ((key ~ '^[a-z_]+(\.[a-z_]+)*$'::text)),
    CONSTRAINT message_templates_language_check CHECK ((language ~ '^[a-z]{2,3}(-[A-Z]{2})?$'::text))
);

-- Name: TABLE message_templates; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.message_templates IS 'Every customer-facing text (SMS bodies, the assistant''s spoken lines, refusal texts) by language and key, with {name} placeholders; rendered by internal.message(). Written by db/functions/16_messages.sql on every migrate.';

-- Name: service_providers; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.service_providers (
    org_id uuid NOT NULL,
    service_id text NOT NULL,
    calendar_id text NOT NULL
);

-- Name: TABLE service_providers; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.service_providers IS 'Which providers (calendars) offer a service. A service with no rows here is offered by every active provider. Set with api.upsert_service(providers => ...).';

-- Name: sign_in_attempts; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.sign_in_attempts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    email_hash bytea NOT NULL,
    client_address text NOT NULL,
    succeeded boolean NOT NULL,
    CONSTRAINT sign_in_attempts_client_address_check CHECK ((length(client_address) <= 100)),
    CONSTRAINT sign_in_attempts_email_hash_check CHECK ((length(email_hash) = 32))
);

-- Name: TABLE sign_in_attempts; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.sign_in_attempts IS 'Dashboard sign-in attempts for the rate limit (internal.sign_in_limits): sha256 of the lower-cased email, the client address, success. Rows older than a day are deleted as new ones come.';

-- Name: sms_consent_events; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.sms_consent_events (
    org_id uuid NOT NULL,
    id bigint NOT NULL,
    phone voxbook.e164 NOT NULL,
    opted_out boolean NOT NULL,
    source text NOT NULL,
    provider_message_id text,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

-- Name: TABLE sms_consent_events; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.sms_consent_events IS 'Every opt-out (STOP, Twilio error 21610) and opt-in (START) per clinic and E.164 number, with its source.';

-- Name: sms_consent_events_id_seq; Type: SEQUENCE; Schema: voxbook; Owner: -

ALTER TABLE voxbook.sms_consent_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME voxbook.sms_consent_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- Name: sms_inbound; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.sms_inbound (
    message_sid text NOT NULL,
    result jsonb,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT sms_inbound_message_sid_check CHECK (((length(message_sid) >= 1) AND (length(message_sid) <= 64)))
);

-- Name: TABLE sms_inbound; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.sms_inbound IS 'One row per inbound MessageSid handled by api.record_inbound_sms, with its answer: a redelivered webhook (same MessageSid) changes nothing and gets the same answer.';

-- Name: sms_inbox; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.sms_inbox (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    message_sid text,
    phone voxbook.e164 NOT NULL,
    body text NOT NULL,
    appointment_id uuid,
    status text DEFAULT 'open'::text NOT NULL,
    forwarded_sms_id uuid,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    done_at timestamp with time zone,
    done_by text,
    CONSTRAINT sms_inbox_body_check CHECK ((length(body) <= 1600)),
    CONSTRAINT sms_inbox_check CHECK (((status = 'done'::text) = (done_at IS NOT NULL))),
    CONSTRAINT sms_inbox_check1 CHECK (((status = 'open'::text) OR (done_by IS NOT NULL))),
    CONSTRAINT sms_inbox_done_by_check CHECK ((length(done_by) <= 200)),
    CONSTRAINT sms_inbox_message_sid_check CHECK (((length(message_sid) >= 1) AND (length(message_sid) <= 64))),
    CONSTRAINT sms_inbox_status_check CHECK ((status = ANY (ARRAY['open'::text, 'done'::text])))
);

-- Name: TABLE sms_inbox; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.sms_inbox IS 'Texts from patients that are not a carrier keyword nor a reply C/R (db/functions/46_sms_replies.sql): listed for staff (api.list_sms_inbox), closed by them (api.resolve_sms_inbox_item: status done, done_by), forwarded to the front desk by one SMS (forwarded_sms_id). Once per (message_sid, org_id).';

-- Name: time_zones; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.time_zones (
    name text NOT NULL
);

-- Name: TABLE time_zones; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.time_zones IS 'The IANA time zone names a clinic may use (organizations.time_zone refers here): PostgreSQL''s pg_timezone_names with a ''/'' or UTC, without posix/ and right/. New names are added on every migrate (db/functions/62_time_zones.sql); none is deleted. No org_id: on Citus a reference table.';

-- Name: tool_calls; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.tool_calls (
    org_id uuid NOT NULL,
    tool_call_id text NOT NULL,
    tool_name text NOT NULL,
    vapi_call_id text,
    response jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT tool_calls_one_format CHECK ((response ? 'answer'::text)),
    CONSTRAINT tool_calls_response_check CHECK ((jsonb_typeof(response) = 'object'::text)),
    CONSTRAINT tool_calls_tool_call_id_check CHECK (((length(tool_call_id) >= 1) AND (length(tool_call_id) <= 200))),
    CONSTRAINT tool_calls_tool_name_check CHECK (((length(tool_name) >= 1) AND (length(tool_name) <= 64)))
)
WITH (autovacuum_vacuum_scale_factor='0.02', autovacuum_vacuum_threshold='500', autovacuum_vacuum_insert_scale_factor='0.02', autovacuum_vacuum_insert_threshold='500', autovacuum_analyze_scale_factor='0.02', autovacuum_analyze_threshold='500');

-- Name: TABLE tool_calls; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.tool_calls IS 'The result of each Vapi tool call (keyed by the clinic and Vapi''s toolCallId), stored by api.run_tool_call as {"answer": <the booking function''s result>, "spoken": <the line the assistant says>}. A redelivery is answered from here. Rows are only needed while Vapi may retry; old ones can be deleted freely.';

-- Name: COLUMN tool_calls.response; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON COLUMN voxbook.tool_calls.response IS '{"answer": <the result of the api function the tool call ran>, "spoken": <its line from the message catalogue (internal.spoken_line)>}; rows stored before 0015 have no "spoken" and get it worded on replay. NULL only inside the transaction of api.run_tool_call that inserted the row (never committed).';

-- Name: waitlist; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.waitlist (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    service_id text,
    calendar_id text,
    first_day date NOT NULL,
    last_day date NOT NULL,
    from_time time without time zone DEFAULT '00:00:00'::time without time zone NOT NULL,
    to_time time without time zone DEFAULT '23:59:00'::time without time zone NOT NULL,
    patient_name text,
    phone voxbook.e164 NOT NULL,
    locale text,
    vapi_call_id text,
    status text DEFAULT 'waiting'::text NOT NULL,
    appointment_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT waitlist_check CHECK (((first_day <= last_day) AND ((last_day - first_day) <= 62))),
    CONSTRAINT waitlist_check1 CHECK ((from_time < to_time)),
    CONSTRAINT waitlist_check2 CHECK (((status = 'booked'::text) = (appointment_id IS NOT NULL))),
    CONSTRAINT waitlist_locale_check CHECK ((locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$'::text)),
    CONSTRAINT waitlist_patient_name_check CHECK ((length(patient_name) <= 200)),
    CONSTRAINT waitlist_status_check CHECK ((status = ANY (ARRAY['waiting'::text, 'booked'::text, 'removed'::text, 'expired'::text]))),
    CONSTRAINT waitlist_vapi_call_id_check CHECK ((length(vapi_call_id) <= 200))
);

-- Name: TABLE waitlist; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.waitlist IS 'Patients waiting for a time to free up: service, provider (NULL: any), local days first_day..last_day and local times from_time..to_time; first come first served. Offered freed times by SMS (waitlist_offers).';

-- Name: waitlist_offers; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.waitlist_offers (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    entry_id uuid NOT NULL,
    calendar_id text NOT NULL,
    service_id text,
    starts_at timestamp with time zone NOT NULL,
    phone voxbook.e164 NOT NULL,
    status text DEFAULT 'sent'::text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    sms_id uuid,
    appointment_id uuid,
    answer_sid text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    answered_at timestamp with time zone,
    CONSTRAINT waitlist_offers_answer_sid_check CHECK ((length(answer_sid) <= 64)),
    CONSTRAINT waitlist_offers_check CHECK (((status = 'accepted'::text) = (appointment_id IS NOT NULL))),
    CONSTRAINT waitlist_offers_status_check CHECK ((status = ANY (ARRAY['sent'::text, 'accepted'::text, 'lost'::text, 'expired'::text])))
);

-- Name: TABLE waitlist_offers; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.waitlist_offers IS 'A freed time offered by SMS to a waitlisted patient until expires_at; the first BOOK/1 reply among those offered it books it (accepted, appointment_id), the others are told it is gone (lost).';

-- Name: working_hours; Type: TABLE; Schema: voxbook; Owner: -

CREATE TABLE voxbook.working_hours (
    id bigint NOT NULL,
    org_id uuid NOT NULL,
    calendar_id text NOT NULL,
    iso_dow integer NOT NULL,
    starts time without time zone NOT NULL,
    ends time without time zone NOT NULL,
    CONSTRAINT working_hours_check CHECK ((starts < ends)),
    CONSTRAINT working_hours_iso_dow_check CHECK (((iso_dow >= 1) AND (iso_dow <= 7)))
);

-- Name: TABLE working_hours; Type: COMMENT; Schema: voxbook; Owner: -

COMMENT ON TABLE voxbook.working_hours IS 'Weekly working intervals per calendar in the clinic''s local wall-clock time (ISO day of week, 1 = Monday).';

-- Name: working_hours_id_seq; Type: SEQUENCE; Schema: voxbook; Owner: -

ALTER TABLE voxbook.working_hours ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME voxbook.working_hours_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- Name: appointments appointments_org_id_hold_id_key; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.appointments
    ADD CONSTRAINT appointments_org_id_hold_id_key UNIQUE (org_id, hold_id);

-- Name: appointments appointments_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.appointments
    ADD CONSTRAINT appointments_pkey PRIMARY KEY (org_id, id);

-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (org_id, id);

-- Name: blocked_periods blocked_periods_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.blocked_periods
    ADD CONSTRAINT blocked_periods_pkey PRIMARY KEY (org_id, id);

-- Name: calendar_connections calendar_connections_one_per_provider; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calendar_connections
    ADD CONSTRAINT calendar_connections_one_per_provider UNIQUE (org_id, calendar_id);

-- Name: calendar_connections calendar_connections_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calendar_connections
    ADD CONSTRAINT calendar_connections_pkey PRIMARY KEY (org_id, id);

-- Name: calendar_feed_tokens calendar_feed_tokens_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calendar_feed_tokens
    ADD CONSTRAINT calendar_feed_tokens_pkey PRIMARY KEY (org_id, id);

-- Name: calendar_feed_tokens calendar_feed_tokens_token_hash_key; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calendar_feed_tokens
    ADD CONSTRAINT calendar_feed_tokens_token_hash_key UNIQUE (token_hash, org_id);

-- Name: calendar_pushes calendar_pushes_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calendar_pushes
    ADD CONSTRAINT calendar_pushes_pkey PRIMARY KEY (org_id, connection_id, appointment_id);

-- Name: calendars calendars_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calendars
    ADD CONSTRAINT calendars_pkey PRIMARY KEY (org_id, id);

-- Name: call_locales call_locales_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.call_locales
    ADD CONSTRAINT call_locales_pkey PRIMARY KEY (org_id, vapi_call_id);

-- Name: callback_requests callback_requests_once_per_call; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.callback_requests
    ADD CONSTRAINT callback_requests_once_per_call UNIQUE (org_id, vapi_call_id, kind);

-- Name: callback_requests callback_requests_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.callback_requests
    ADD CONSTRAINT callback_requests_pkey PRIMARY KEY (org_id, id);

-- Name: caller_verifications caller_verifications_once; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.caller_verifications
    ADD CONSTRAINT caller_verifications_once UNIQUE (org_id, vapi_call_id, phone);

-- Name: caller_verifications caller_verifications_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.caller_verifications
    ADD CONSTRAINT caller_verifications_pkey PRIMARY KEY (org_id, id);

-- Name: calls calls_org_id_vapi_call_id_key; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calls
    ADD CONSTRAINT calls_org_id_vapi_call_id_key UNIQUE (org_id, vapi_call_id);

-- Name: calls calls_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calls
    ADD CONSTRAINT calls_pkey PRIMARY KEY (org_id, id);

-- Name: carrier_accounts carrier_accounts_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.carrier_accounts
    ADD CONSTRAINT carrier_accounts_pkey PRIMARY KEY (org_id);

-- Name: code_events code_events_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.code_events
    ADD CONSTRAINT code_events_pkey PRIMARY KEY (org_id, id);

-- Name: code_limit_locks code_limit_locks_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.code_limit_locks
    ADD CONSTRAINT code_limit_locks_pkey PRIMARY KEY (org_id);

-- Name: contacts contacts_org_id_phone_key; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.contacts
    ADD CONSTRAINT contacts_org_id_phone_key UNIQUE (org_id, phone);

-- Name: contacts contacts_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.contacts
    ADD CONSTRAINT contacts_pkey PRIMARY KEY (org_id, id);

-- Name: countries countries_iso_code_calling_code_key; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.countries
    ADD CONSTRAINT countries_iso_code_calling_code_key UNIQUE (iso_code, calling_code);

-- Name: countries countries_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.countries
    ADD CONSTRAINT countries_pkey PRIMARY KEY (iso_code);

-- Name: dashboard_sessions dashboard_sessions_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.dashboard_sessions
    ADD CONSTRAINT dashboard_sessions_pkey PRIMARY KEY (org_id, id);

-- Name: dashboard_sessions dashboard_sessions_session_hash_key; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.dashboard_sessions
    ADD CONSTRAINT dashboard_sessions_session_hash_key UNIQUE (session_hash, org_id);

-- Name: dashboard_tokens dashboard_tokens_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.dashboard_tokens
    ADD CONSTRAINT dashboard_tokens_pkey PRIMARY KEY (org_id, id);

-- Name: dashboard_tokens dashboard_tokens_token_hash_key; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.dashboard_tokens
    ADD CONSTRAINT dashboard_tokens_token_hash_key UNIQUE (token_hash, org_id);

-- Name: holds holds_no_overlap; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.holds
    ADD CONSTRAINT holds_no_overlap EXCLUDE USING gist (org_id WITH =, hashtextextended(calendar_id, (0)::bigint) WITH =, COALESCE(occupies, tstzrange(starts_at, ends_at, '[)'::text)) WITH &&) WHERE ((status = ANY (ARRAY['held'::text, 'confirmed'::text])));

-- Name: holds holds_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.holds
    ADD CONSTRAINT holds_pkey PRIMARY KEY (org_id, id);

-- Name: hot_lead_alerts hot_lead_alerts_org_id_call_id_key; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.hot_lead_alerts
    ADD CONSTRAINT hot_lead_alerts_org_id_call_id_key UNIQUE (org_id, call_id);

-- Name: hot_lead_alerts hot_lead_alerts_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.hot_lead_alerts
    ADD CONSTRAINT hot_lead_alerts_pkey PRIMARY KEY (org_id, id);

-- Name: hours_exceptions hours_exceptions_no_overlap; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.hours_exceptions
    ADD CONSTRAINT hours_exceptions_no_overlap EXCLUDE USING gist (org_id WITH =, calendar_id WITH =, on_date WITH =, tsrange(('2000-01-01'::date + COALESCE(starts, '00:00:00'::time without time zone)),
CASE
    WHEN (ends IS NULL) THEN ('2000-01-02'::date)::timestamp without time zone
    ELSE ('2000-01-01'::date + ends)
END) WITH &&);

-- Name: hours_exceptions hours_exceptions_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.hours_exceptions
    ADD CONSTRAINT hours_exceptions_pkey PRIMARY KEY (org_id, id);

-- Name: locale_formats locale_formats_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.locale_formats
    ADD CONSTRAINT locale_formats_pkey PRIMARY KEY (locale);

-- Name: message_templates message_templates_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.message_templates
    ADD CONSTRAINT message_templates_pkey PRIMARY KEY (language, key);

-- Name: organizations organizations_phone_key; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.organizations
    ADD CONSTRAINT organizations_phone_key UNIQUE (phone);

-- Name: organizations organizations_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.organizations
    ADD CONSTRAINT organizations_pkey PRIMARY KEY (id);

-- Name: service_providers service_providers_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.service_providers
    ADD CONSTRAINT service_providers_pkey PRIMARY KEY (org_id, service_id, calendar_id);

-- Name: services services_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.services
    ADD CONSTRAINT services_pkey PRIMARY KEY (org_id, id);

-- Name: sign_in_attempts sign_in_attempts_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.sign_in_attempts
    ADD CONSTRAINT sign_in_attempts_pkey PRIMARY KEY (id);

-- Name: sms_consent_events sms_consent_events_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.sms_consent_events
    ADD CONSTRAINT sms_consent_events_pkey PRIMARY KEY (org_id, id);

-- Name: sms_inbound sms_inbound_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.sms_inbound
    ADD CONSTRAINT sms_inbound_pkey PRIMARY KEY (message_sid);

-- Name: sms_inbox sms_inbox_once_per_message; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.sms_inbox
    ADD CONSTRAINT sms_inbox_once_per_message UNIQUE (message_sid, org_id);

-- Name: sms_inbox sms_inbox_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.sms_inbox
    ADD CONSTRAINT sms_inbox_pkey PRIMARY KEY (org_id, id);

-- Name: sms_outbox sms_outbox_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.sms_outbox
    ADD CONSTRAINT sms_outbox_pkey PRIMARY KEY (org_id, id);

-- Name: sms_outbox sms_outbox_provider_message_id_key; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.sms_outbox
    ADD CONSTRAINT sms_outbox_provider_message_id_key UNIQUE (provider_message_id, org_id);

-- Name: staff_accounts staff_accounts_one_per_email; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.staff_accounts
    ADD CONSTRAINT staff_accounts_one_per_email UNIQUE (org_id, email);

-- Name: staff_accounts staff_accounts_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.staff_accounts
    ADD CONSTRAINT staff_accounts_pkey PRIMARY KEY (org_id, id);

-- Name: staff_invites staff_invites_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.staff_invites
    ADD CONSTRAINT staff_invites_pkey PRIMARY KEY (org_id, id);

-- Name: staff_invites staff_invites_token_hash_key; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.staff_invites
    ADD CONSTRAINT staff_invites_token_hash_key UNIQUE (token_hash, org_id);

-- Name: time_zones time_zones_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.time_zones
    ADD CONSTRAINT time_zones_pkey PRIMARY KEY (name);

-- Name: tool_calls tool_calls_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.tool_calls
    ADD CONSTRAINT tool_calls_pkey PRIMARY KEY (org_id, tool_call_id);

-- Name: waitlist_offers waitlist_offers_once; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.waitlist_offers
    ADD CONSTRAINT waitlist_offers_once UNIQUE (org_id, entry_id, calendar_id, starts_at);

-- Name: waitlist_offers waitlist_offers_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.waitlist_offers
    ADD CONSTRAINT waitlist_offers_pkey PRIMARY KEY (org_id, id);

-- Name: waitlist waitlist_once_per_call; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.waitlist
    ADD CONSTRAINT waitlist_once_per_call UNIQUE (org_id, vapi_call_id);

-- Name: waitlist waitlist_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.waitlist
    ADD CONSTRAINT waitlist_pkey PRIMARY KEY (org_id, id);

-- Name: working_hours working_hours_org_id_calendar_id_iso_dow_tsrange_excl; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.working_hours
    ADD CONSTRAINT working_hours_org_id_calendar_id_iso_dow_tsrange_excl EXCLUDE USING gist (org_id WITH =, calendar_id WITH =, iso_dow WITH =, tsrange(('2000-01-01'::date + starts), ('2000-01-01'::date + ends)) WITH &&);

-- Name: working_hours working_hours_pkey; Type: CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.working_hours
    ADD CONSTRAINT working_hours_pkey PRIMARY KEY (org_id, id);

-- Name: appointments_by_call; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX appointments_by_call ON voxbook.appointments USING btree (org_id, vapi_call_id) WHERE (vapi_call_id IS NOT NULL);

-- Name: appointments_changed; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX appointments_changed ON voxbook.appointments USING btree (org_id, updated_at);

-- Name: audit_log_by_time; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX audit_log_by_time ON voxbook.audit_log USING btree (org_id, at);

-- Name: blocked_periods_by_event; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX blocked_periods_by_event ON voxbook.blocked_periods USING btree (org_id, connection_id, event_href) WHERE (connection_id IS NOT NULL);

-- Name: blocked_periods_lookup; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX blocked_periods_lookup ON voxbook.blocked_periods USING gist (org_id, calendar_id, during);

-- Name: calendar_connections_due; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX calendar_connections_due ON voxbook.calendar_connections USING btree (next_attempt_at);

-- Name: callback_requests_open; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX callback_requests_open ON voxbook.callback_requests USING btree (org_id, created_at DESC) WHERE (status = 'open'::text);

-- Name: carrier_accounts_account_sid; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX carrier_accounts_account_sid ON voxbook.carrier_accounts USING btree (account_sid);

-- Name: code_events_by_call; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX code_events_by_call ON voxbook.code_events USING btree (org_id, vapi_call_id, kind, at) WHERE (vapi_call_id IS NOT NULL);

-- Name: code_events_by_phone; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX code_events_by_phone ON voxbook.code_events USING btree (org_id, phone, kind, at);

-- Name: code_events_by_time; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX code_events_by_time ON voxbook.code_events USING btree (org_id, kind, at);

-- Name: countries_one_main_region; Type: INDEX; Schema: voxbook; Owner: -

CREATE UNIQUE INDEX countries_one_main_region ON voxbook.countries USING btree (calling_code) WHERE main_region;

-- Name: dashboard_sessions_expiry; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX dashboard_sessions_expiry ON voxbook.dashboard_sessions USING btree (org_id, expires_at);

-- Name: dashboard_sessions_of_staff; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX dashboard_sessions_of_staff ON voxbook.dashboard_sessions USING btree (org_id, staff_id);

-- Name: holds_by_calendar_service; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX holds_by_calendar_service ON voxbook.holds USING btree (org_id, service_id) WHERE (service_id IS NOT NULL);

-- Name: holds_by_call; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX holds_by_call ON voxbook.holds USING btree (org_id, vapi_call_id) WHERE (vapi_call_id IS NOT NULL);

-- Name: holds_live_expiry; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX holds_live_expiry ON voxbook.holds USING btree (expires_at) WHERE (status = 'held'::text);

-- Name: hot_lead_alerts_recent; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX hot_lead_alerts_recent ON voxbook.hot_lead_alerts USING btree (org_id, created_at DESC);

-- Name: hours_exceptions_lookup; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX hours_exceptions_lookup ON voxbook.hours_exceptions USING btree (org_id, calendar_id, on_date);

-- Name: service_providers_by_calendar; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX service_providers_by_calendar ON voxbook.service_providers USING btree (org_id, calendar_id);

-- Name: sign_in_attempts_by_address; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX sign_in_attempts_by_address ON voxbook.sign_in_attempts USING btree (client_address, at);

-- Name: sign_in_attempts_by_email; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX sign_in_attempts_by_email ON voxbook.sign_in_attempts USING btree (email_hash, at);

-- Name: sms_consent_events_by_phone; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX sms_consent_events_by_phone ON voxbook.sms_consent_events USING btree (org_id, phone, created_at DESC);

-- Name: sms_consent_events_once; Type: INDEX; Schema: voxbook; Owner: -

CREATE UNIQUE INDEX sms_consent_events_once ON voxbook.sms_consent_events USING btree (org_id, provider_message_id) WHERE (provider_message_id IS NOT NULL);

-- Name: sms_inbox_by_phone; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX sms_inbox_by_phone ON voxbook.sms_inbox USING btree (org_id, phone, received_at DESC);

-- Name: sms_inbox_open; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX sms_inbox_open ON voxbook.sms_inbox USING btree (org_id, received_at DESC) WHERE (status = 'open'::text);

-- Name: sms_outbox_by_appointment; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX sms_outbox_by_appointment ON voxbook.sms_outbox USING btree (org_id, appointment_id, created_at DESC) WHERE (appointment_id IS NOT NULL);

-- Name: sms_outbox_by_org; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX sms_outbox_by_org ON voxbook.sms_outbox USING btree (org_id, created_at DESC);

-- Name: sms_outbox_by_recipient; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX sms_outbox_by_recipient ON voxbook.sms_outbox USING btree (org_id, recipient) WHERE (status = ANY (ARRAY['queued'::text, 'unknown'::text]));

-- Name: sms_outbox_claimable; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX sms_outbox_claimable ON voxbook.sms_outbox USING btree (send_after) WHERE (status = ANY (ARRAY['queued'::text, 'unknown'::text]));

-- Name: sms_outbox_due; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX sms_outbox_due ON voxbook.sms_outbox USING btree (send_after) WHERE (status = 'queued'::text);

-- Name: sms_outbox_in_flight; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX sms_outbox_in_flight ON voxbook.sms_outbox USING btree (locked_at) WHERE (status = 'sending'::text);

-- Name: sms_outbox_one_confirmation; Type: INDEX; Schema: voxbook; Owner: -

CREATE UNIQUE INDEX sms_outbox_one_confirmation ON voxbook.sms_outbox USING btree (org_id, appointment_id) WHERE ((kind = 'confirmation'::text) AND (status <> 'failed'::text) AND (resent_from IS NULL));

-- Name: sms_outbox_one_queued_reminder; Type: INDEX; Schema: voxbook; Owner: -

CREATE UNIQUE INDEX sms_outbox_one_queued_reminder ON voxbook.sms_outbox USING btree (org_id, appointment_id) WHERE ((kind = 'reminder'::text) AND (status = 'queued'::text));

-- Name: sms_outbox_resent_once; Type: INDEX; Schema: voxbook; Owner: -

CREATE UNIQUE INDEX sms_outbox_resent_once ON voxbook.sms_outbox USING btree (org_id, resent_from) WHERE (resent_from IS NOT NULL);

-- Name: sms_outbox_sent_to; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX sms_outbox_sent_to ON voxbook.sms_outbox USING btree (org_id, recipient, sent_at) WHERE (provider_message_id IS NOT NULL);

-- Name: staff_accounts_by_email; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX staff_accounts_by_email ON voxbook.staff_accounts USING btree (email);

-- Name: staff_invites_of_staff; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX staff_invites_of_staff ON voxbook.staff_invites USING btree (org_id, staff_id);

-- Name: tool_calls_by_call; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX tool_calls_by_call ON voxbook.tool_calls USING btree (org_id, vapi_call_id) WHERE (vapi_call_id IS NOT NULL);

-- Name: tool_calls_created; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX tool_calls_created ON voxbook.tool_calls USING btree (created_at);

-- Name: waitlist_offers_live; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX waitlist_offers_live ON voxbook.waitlist_offers USING btree (org_id, phone) WHERE (status = 'sent'::text);

-- Name: waitlist_phone; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX waitlist_phone ON voxbook.waitlist USING btree (org_id, phone);

-- Name: waitlist_waiting; Type: INDEX; Schema: voxbook; Owner: -

CREATE INDEX waitlist_waiting ON voxbook.waitlist USING btree (org_id, created_at) WHERE (status = 'waiting'::text);

-- Name: calendars calendars_keep_holds; Type: TRIGGER; Schema: voxbook; Owner: -

CREATE TRIGGER calendars_keep_holds BEFORE DELETE OR UPDATE OF org_id, id ON voxbook.calendars FOR EACH ROW EXECUTE FUNCTION voxbook.protect_referenced_by_holds('calendar_id');

-- Name: services services_keep_holds; Type: TRIGGER; Schema: voxbook; Owner: -

CREATE TRIGGER services_keep_holds BEFORE DELETE OR UPDATE OF org_id, id ON voxbook.services FOR EACH ROW EXECUTE FUNCTION voxbook.protect_referenced_by_holds('service_id');

-- Name: appointments appointments_org_id_contact_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.appointments
    ADD CONSTRAINT appointments_org_id_contact_id_fkey FOREIGN KEY (org_id, contact_id) REFERENCES voxbook.contacts(org_id, id);

-- Name: appointments appointments_org_id_hold_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.appointments
    ADD CONSTRAINT appointments_org_id_hold_id_fkey FOREIGN KEY (org_id, hold_id) REFERENCES voxbook.holds(org_id, id);

-- Name: appointments appointments_org_id_service_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.appointments
    ADD CONSTRAINT appointments_org_id_service_id_fkey FOREIGN KEY (org_id, service_id) REFERENCES voxbook.services(org_id, id);

-- Name: audit_log audit_log_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.audit_log
    ADD CONSTRAINT audit_log_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: blocked_periods blocked_periods_org_id_calendar_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.blocked_periods
    ADD CONSTRAINT blocked_periods_org_id_calendar_id_fkey FOREIGN KEY (org_id, calendar_id) REFERENCES voxbook.calendars(org_id, id) ON DELETE CASCADE;

-- Name: blocked_periods blocked_periods_org_id_connection_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.blocked_periods
    ADD CONSTRAINT blocked_periods_org_id_connection_id_fkey FOREIGN KEY (org_id, connection_id) REFERENCES voxbook.calendar_connections(org_id, id) ON DELETE CASCADE;

-- Name: blocked_periods blocked_periods_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.blocked_periods
    ADD CONSTRAINT blocked_periods_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: calendar_connections calendar_connections_org_id_calendar_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calendar_connections
    ADD CONSTRAINT calendar_connections_org_id_calendar_id_fkey FOREIGN KEY (org_id, calendar_id) REFERENCES voxbook.calendars(org_id, id) ON DELETE CASCADE;

-- Name: calendar_connections calendar_connections_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calendar_connections
    ADD CONSTRAINT calendar_connections_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: calendar_feed_tokens calendar_feed_tokens_org_id_calendar_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calendar_feed_tokens
    ADD CONSTRAINT calendar_feed_tokens_org_id_calendar_id_fkey FOREIGN KEY (org_id, calendar_id) REFERENCES voxbook.calendars(org_id, id) ON DELETE CASCADE;

-- Name: calendar_pushes calendar_pushes_org_id_appointment_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calendar_pushes
    ADD CONSTRAINT calendar_pushes_org_id_appointment_id_fkey FOREIGN KEY (org_id, appointment_id) REFERENCES voxbook.appointments(org_id, id) ON DELETE CASCADE;

-- Name: calendar_pushes calendar_pushes_org_id_connection_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calendar_pushes
    ADD CONSTRAINT calendar_pushes_org_id_connection_id_fkey FOREIGN KEY (org_id, connection_id) REFERENCES voxbook.calendar_connections(org_id, id) ON DELETE CASCADE;

-- Name: calendars calendars_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calendars
    ADD CONSTRAINT calendars_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: call_locales call_locales_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.call_locales
    ADD CONSTRAINT call_locales_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: callback_requests callback_requests_org_id_appointment_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.callback_requests
    ADD CONSTRAINT callback_requests_org_id_appointment_id_fkey FOREIGN KEY (org_id, appointment_id) REFERENCES voxbook.appointments(org_id, id);

-- Name: callback_requests callback_requests_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.callback_requests
    ADD CONSTRAINT callback_requests_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: callback_requests callback_requests_org_id_sms_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.callback_requests
    ADD CONSTRAINT callback_requests_org_id_sms_id_fkey FOREIGN KEY (org_id, sms_id) REFERENCES voxbook.sms_outbox(org_id, id);

-- Name: caller_verifications caller_verifications_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.caller_verifications
    ADD CONSTRAINT caller_verifications_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: calls calls_org_id_appointment_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calls
    ADD CONSTRAINT calls_org_id_appointment_id_fkey FOREIGN KEY (org_id, appointment_id) REFERENCES voxbook.appointments(org_id, id);

-- Name: calls calls_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.calls
    ADD CONSTRAINT calls_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: carrier_accounts carrier_accounts_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.carrier_accounts
    ADD CONSTRAINT carrier_accounts_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: code_events code_events_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.code_events
    ADD CONSTRAINT code_events_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: code_limit_locks code_limit_locks_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.code_limit_locks
    ADD CONSTRAINT code_limit_locks_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: contacts contacts_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.contacts
    ADD CONSTRAINT contacts_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: contacts contacts_org_id_last_booking_hold_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.contacts
    ADD CONSTRAINT contacts_org_id_last_booking_hold_id_fkey FOREIGN KEY (org_id, last_booking_hold_id) REFERENCES voxbook.holds(org_id, id);

-- Name: dashboard_sessions dashboard_sessions_org_id_staff_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.dashboard_sessions
    ADD CONSTRAINT dashboard_sessions_org_id_staff_id_fkey FOREIGN KEY (org_id, staff_id) REFERENCES voxbook.staff_accounts(org_id, id) ON DELETE CASCADE;

-- Name: dashboard_sessions dashboard_sessions_org_id_token_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.dashboard_sessions
    ADD CONSTRAINT dashboard_sessions_org_id_token_id_fkey FOREIGN KEY (org_id, token_id) REFERENCES voxbook.dashboard_tokens(org_id, id) ON DELETE CASCADE;

-- Name: dashboard_tokens dashboard_tokens_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.dashboard_tokens
    ADD CONSTRAINT dashboard_tokens_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: hot_lead_alerts hot_lead_alerts_org_id_call_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.hot_lead_alerts
    ADD CONSTRAINT hot_lead_alerts_org_id_call_id_fkey FOREIGN KEY (org_id, call_id) REFERENCES voxbook.calls(org_id, id);

-- Name: hot_lead_alerts hot_lead_alerts_org_id_sms_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.hot_lead_alerts
    ADD CONSTRAINT hot_lead_alerts_org_id_sms_id_fkey FOREIGN KEY (org_id, sms_id) REFERENCES voxbook.sms_outbox(org_id, id);

-- Name: hours_exceptions hours_exceptions_org_id_calendar_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.hours_exceptions
    ADD CONSTRAINT hours_exceptions_org_id_calendar_id_fkey FOREIGN KEY (org_id, calendar_id) REFERENCES voxbook.calendars(org_id, id) ON DELETE CASCADE;

-- Name: organizations organizations_country_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.organizations
    ADD CONSTRAINT organizations_country_fkey FOREIGN KEY (country, country_code) REFERENCES voxbook.countries(iso_code, calling_code) ON UPDATE CASCADE;

-- Name: organizations organizations_time_zone_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.organizations
    ADD CONSTRAINT organizations_time_zone_fkey FOREIGN KEY (time_zone) REFERENCES voxbook.time_zones(name) ON UPDATE CASCADE;

-- Name: service_providers service_providers_org_id_calendar_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.service_providers
    ADD CONSTRAINT service_providers_org_id_calendar_id_fkey FOREIGN KEY (org_id, calendar_id) REFERENCES voxbook.calendars(org_id, id) ON DELETE CASCADE;

-- Name: service_providers service_providers_org_id_service_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.service_providers
    ADD CONSTRAINT service_providers_org_id_service_id_fkey FOREIGN KEY (org_id, service_id) REFERENCES voxbook.services(org_id, id) ON DELETE CASCADE;

-- Name: services services_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.services
    ADD CONSTRAINT services_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: sms_consent_events sms_consent_events_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.sms_consent_events
    ADD CONSTRAINT sms_consent_events_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: sms_inbox sms_inbox_org_id_appointment_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.sms_inbox
    ADD CONSTRAINT sms_inbox_org_id_appointment_id_fkey FOREIGN KEY (org_id, appointment_id) REFERENCES voxbook.appointments(org_id, id);

-- Name: sms_inbox sms_inbox_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.sms_inbox
    ADD CONSTRAINT sms_inbox_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: sms_inbox sms_inbox_org_id_forwarded_sms_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.sms_inbox
    ADD CONSTRAINT sms_inbox_org_id_forwarded_sms_id_fkey FOREIGN KEY (org_id, forwarded_sms_id) REFERENCES voxbook.sms_outbox(org_id, id);

-- Name: sms_outbox sms_outbox_org_id_appointment_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.sms_outbox
    ADD CONSTRAINT sms_outbox_org_id_appointment_id_fkey FOREIGN KEY (org_id, appointment_id) REFERENCES voxbook.appointments(org_id, id);

-- Name: sms_outbox sms_outbox_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.sms_outbox
    ADD CONSTRAINT sms_outbox_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: sms_outbox sms_outbox_org_id_hold_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.sms_outbox
    ADD CONSTRAINT sms_outbox_org_id_hold_id_fkey FOREIGN KEY (org_id, hold_id) REFERENCES voxbook.holds(org_id, id);

-- Name: staff_accounts staff_accounts_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.staff_accounts
    ADD CONSTRAINT staff_accounts_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: staff_invites staff_invites_org_id_staff_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.staff_invites
    ADD CONSTRAINT staff_invites_org_id_staff_id_fkey FOREIGN KEY (org_id, staff_id) REFERENCES voxbook.staff_accounts(org_id, id) ON DELETE CASCADE;

-- Name: tool_calls tool_calls_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.tool_calls
    ADD CONSTRAINT tool_calls_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: waitlist_offers waitlist_offers_org_id_appointment_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.waitlist_offers
    ADD CONSTRAINT waitlist_offers_org_id_appointment_id_fkey FOREIGN KEY (org_id, appointment_id) REFERENCES voxbook.appointments(org_id, id);

-- Name: waitlist_offers waitlist_offers_org_id_entry_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.waitlist_offers
    ADD CONSTRAINT waitlist_offers_org_id_entry_id_fkey FOREIGN KEY (org_id, entry_id) REFERENCES voxbook.waitlist(org_id, id) ON DELETE CASCADE;

-- Name: waitlist_offers waitlist_offers_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.waitlist_offers
    ADD CONSTRAINT waitlist_offers_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: waitlist_offers waitlist_offers_org_id_sms_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.waitlist_offers
    ADD CONSTRAINT waitlist_offers_org_id_sms_id_fkey FOREIGN KEY (org_id, sms_id) REFERENCES voxbook.sms_outbox(org_id, id);

-- Name: waitlist waitlist_org_id_appointment_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.waitlist
    ADD CONSTRAINT waitlist_org_id_appointment_id_fkey FOREIGN KEY (org_id, appointment_id) REFERENCES voxbook.appointments(org_id, id);

-- Name: waitlist waitlist_org_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.waitlist
    ADD CONSTRAINT waitlist_org_id_fkey FOREIGN KEY (org_id) REFERENCES voxbook.organizations(id) ON DELETE CASCADE;

-- Name: working_hours working_hours_org_id_calendar_id_fkey; Type: FK CONSTRAINT; Schema: voxbook; Owner: -

ALTER TABLE ONLY voxbook.working_hours
    ADD CONSTRAINT working_hours_org_id_calendar_id_fkey FOREIGN KEY (org_id, calendar_id) REFERENCES voxbook.calendars(org_id, id) ON DELETE CASCADE;

-- Name: SCHEMA api; Type: ACL; Schema: -; Owner: -

GRANT USAGE ON SCHEMA api TO voxbook_api;

-- Name: FUNCTION accept_staff_invite(token text, password_hash text, session_hours integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.accept_staff_invite(token text, password_hash text, session_hours integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.accept_staff_invite(token text, password_hash text, session_hours integer) TO voxbook_api;

-- Name: FUNCTION apply_calendar_import(org_id uuid, connection_id uuid, worker_id text, changed jsonb, deleted_hrefs jsonb, full_read boolean, sync_token text, ctag text, expanded_until timestamp with time zone); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.apply_calendar_import(org_id uuid, connection_id uuid, worker_id text, changed jsonb, deleted_hrefs jsonb, full_read boolean, sync_token text, ctag text, expanded_until timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION api.apply_calendar_import(org_id uuid, connection_id uuid, worker_id text, changed jsonb, deleted_hrefs jsonb, full_read boolean, sync_token text, ctag text, expanded_until timestamp with time zone) TO voxbook_api;
GRANT ALL ON FUNCTION api.apply_calendar_import(org_id uuid, connection_id uuid, worker_id text, changed jsonb, deleted_hrefs jsonb, full_read boolean, sync_token text, ctag text, expanded_until timestamp with time zone) TO voxbook_rpc;

-- Name: FUNCTION begin_sms_send(org_id uuid, message_id uuid, worker_id text, attempt integer, lease_seconds double precision); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.begin_sms_send(org_id uuid, message_id uuid, worker_id text, attempt integer, lease_seconds double precision) FROM PUBLIC;
GRANT ALL ON FUNCTION api.begin_sms_send(org_id uuid, message_id uuid, worker_id text, attempt integer, lease_seconds double precision) TO voxbook_api;
GRANT ALL ON FUNCTION api.begin_sms_send(org_id uuid, message_id uuid, worker_id text, attempt integer, lease_seconds double precision) TO voxbook_rpc;

-- Name: FUNCTION block_local_time(org_id uuid, calendar_id text, on_date date, from_time time without time zone, to_time time without time zone, reason text, proceed boolean, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.block_local_time(org_id uuid, calendar_id text, on_date date, from_time time without time zone, to_time time without time zone, reason text, proceed boolean, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.block_local_time(org_id uuid, calendar_id text, on_date date, from_time time without time zone, to_time time without time zone, reason text, proceed boolean, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.block_local_time(org_id uuid, calendar_id text, on_date date, from_time time without time zone, to_time time without time zone, reason text, proceed boolean, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION block_time(org_id uuid, calendar_id text, starts timestamp with time zone, ends timestamp with time zone, reason text, proceed boolean, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.block_time(org_id uuid, calendar_id text, starts timestamp with time zone, ends timestamp with time zone, reason text, proceed boolean, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.block_time(org_id uuid, calendar_id text, starts timestamp with time zone, ends timestamp with time zone, reason text, proceed boolean, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.block_time(org_id uuid, calendar_id text, starts timestamp with time zone, ends timestamp with time zone, reason text, proceed boolean, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION book_for_patient(org_id uuid, calendar_id text, slot_time timestamp with time zone, service text, patient_name text, patient_phone text, staff_user text, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.book_for_patient(org_id uuid, calendar_id text, slot_time timestamp with time zone, service text, patient_name text, patient_phone text, staff_user text, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.book_for_patient(org_id uuid, calendar_id text, slot_time timestamp with time zone, service text, patient_name text, patient_phone text, staff_user text, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.book_for_patient(org_id uuid, calendar_id text, slot_time timestamp with time zone, service text, patient_name text, patient_phone text, staff_user text, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION calendar_feed(calendar_id text, token text, org_id uuid, past_days integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.calendar_feed(calendar_id text, token text, org_id uuid, past_days integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.calendar_feed(calendar_id text, token text, org_id uuid, past_days integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.calendar_feed(calendar_id text, token text, org_id uuid, past_days integer) TO voxbook_rpc;

-- Name: FUNCTION calendar_push_plan(org_id uuid, connection_id uuid, max_rows integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.calendar_push_plan(org_id uuid, connection_id uuid, max_rows integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.calendar_push_plan(org_id uuid, connection_id uuid, max_rows integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.calendar_push_plan(org_id uuid, connection_id uuid, max_rows integer) TO voxbook_rpc;

-- Name: FUNCTION calendar_sync_problems(max_rows integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.calendar_sync_problems(max_rows integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.calendar_sync_problems(max_rows integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.calendar_sync_problems(max_rows integer) TO voxbook_rpc;

-- Name: FUNCTION caller_greeting(org_id uuid, caller_phone text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.caller_greeting(org_id uuid, caller_phone text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.caller_greeting(org_id uuid, caller_phone text) TO voxbook_api;
GRANT ALL ON FUNCTION api.caller_greeting(org_id uuid, caller_phone text) TO voxbook_rpc;

-- Name: FUNCTION cancel_appointment(appointment_id uuid, org_id uuid, reason text, patient_phone text, notify boolean, staff_user text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.cancel_appointment(appointment_id uuid, org_id uuid, reason text, patient_phone text, notify boolean, staff_user text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.cancel_appointment(appointment_id uuid, org_id uuid, reason text, patient_phone text, notify boolean, staff_user text) TO voxbook_api;
GRANT ALL ON FUNCTION api.cancel_appointment(appointment_id uuid, org_id uuid, reason text, patient_phone text, notify boolean, staff_user text) TO voxbook_rpc;

-- Name: FUNCTION cancel_my_appointment(org_id uuid, call_id text, caller_phone text, phone text, appointment_id uuid, which integer, at text, reason text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.cancel_my_appointment(org_id uuid, call_id text, caller_phone text, phone text, appointment_id uuid, which integer, at text, reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.cancel_my_appointment(org_id uuid, call_id text, caller_phone text, phone text, appointment_id uuid, which integer, at text, reason text) TO voxbook_api;
GRANT ALL ON FUNCTION api.cancel_my_appointment(org_id uuid, call_id text, caller_phone text, phone text, appointment_id uuid, which integer, at text, reason text) TO voxbook_rpc;

-- Name: FUNCTION check_availability(org_id uuid, date date, calendar_id text, service text, days integer, max_slots integer, spread integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.check_availability(org_id uuid, date date, calendar_id text, service text, days integer, max_slots integer, spread integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.check_availability(org_id uuid, date date, calendar_id text, service text, days integer, max_slots integer, spread integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.check_availability(org_id uuid, date date, calendar_id text, service text, days integer, max_slots integer, spread integer) TO voxbook_rpc;

-- Name: FUNCTION claim_calendar_sync(org_id uuid, connection_id uuid, worker_id text, lease_seconds double precision); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.claim_calendar_sync(org_id uuid, connection_id uuid, worker_id text, lease_seconds double precision) FROM PUBLIC;
GRANT ALL ON FUNCTION api.claim_calendar_sync(org_id uuid, connection_id uuid, worker_id text, lease_seconds double precision) TO voxbook_api;

-- Name: FUNCTION claim_calendar_syncs(worker_id text, max_rows integer, lease_seconds double precision, due_before timestamp with time zone); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.claim_calendar_syncs(worker_id text, max_rows integer, lease_seconds double precision, due_before timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION api.claim_calendar_syncs(worker_id text, max_rows integer, lease_seconds double precision, due_before timestamp with time zone) TO voxbook_api;

-- Name: FUNCTION claim_slot_atomic(org_id uuid, calendar_id text, slot_time timestamp with time zone, call_sid text, patient_name text, patient_phone text, hold_minutes integer, service text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.claim_slot_atomic(org_id uuid, calendar_id text, slot_time timestamp with time zone, call_sid text, patient_name text, patient_phone text, hold_minutes integer, service text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.claim_slot_atomic(org_id uuid, calendar_id text, slot_time timestamp with time zone, call_sid text, patient_name text, patient_phone text, hold_minutes integer, service text) TO voxbook_api;
GRANT ALL ON FUNCTION api.claim_slot_atomic(org_id uuid, calendar_id text, slot_time timestamp with time zone, call_sid text, patient_name text, patient_phone text, hold_minutes integer, service text) TO voxbook_rpc;

-- Name: FUNCTION claim_sms_batch(worker_id text, batch_size integer, lease_seconds double precision); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.claim_sms_batch(worker_id text, batch_size integer, lease_seconds double precision) FROM PUBLIC;
GRANT ALL ON FUNCTION api.claim_sms_batch(worker_id text, batch_size integer, lease_seconds double precision) TO voxbook_api;
GRANT ALL ON FUNCTION api.claim_sms_batch(worker_id text, batch_size integer, lease_seconds double precision) TO voxbook_rpc;

-- Name: FUNCTION clear_carrier_account(org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.clear_carrier_account(org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.clear_carrier_account(org_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.clear_carrier_account(org_id uuid) TO voxbook_rpc;

-- Name: FUNCTION code_status(); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.code_status() FROM PUBLIC;
GRANT ALL ON FUNCTION api.code_status() TO voxbook_api;
GRANT ALL ON FUNCTION api.code_status() TO voxbook_rpc;

-- Name: FUNCTION config_problems(sms_provider text, messaging_service boolean, secrets_key_ids text[]); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.config_problems(sms_provider text, messaging_service boolean, secrets_key_ids text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.config_problems(sms_provider text, messaging_service boolean, secrets_key_ids text[]) TO voxbook_api;
GRANT ALL ON FUNCTION api.config_problems(sms_provider text, messaging_service boolean, secrets_key_ids text[]) TO voxbook_rpc;

-- Name: FUNCTION confirm_held_slot(hold_id uuid, org_id uuid, contact_id uuid, service_type text, staff_user text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.confirm_held_slot(hold_id uuid, org_id uuid, contact_id uuid, service_type text, staff_user text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.confirm_held_slot(hold_id uuid, org_id uuid, contact_id uuid, service_type text, staff_user text) TO voxbook_api;
GRANT ALL ON FUNCTION api.confirm_held_slot(hold_id uuid, org_id uuid, contact_id uuid, service_type text, staff_user text) TO voxbook_rpc;

-- Name: FUNCTION connect_calendar(org_id uuid, calendar_id text, url text, username text, secret_ciphertext text, key_id text, event_title text, patient_name text, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.connect_calendar(org_id uuid, calendar_id text, url text, username text, secret_ciphertext text, key_id text, event_title text, patient_name text, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.connect_calendar(org_id uuid, calendar_id text, url text, username text, secret_ciphertext text, key_id text, event_title text, patient_name text, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.connect_calendar(org_id uuid, calendar_id text, url text, username text, secret_ciphertext text, key_id text, event_title text, patient_name text, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION create_clinic(name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb, changed_by text, org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.create_clinic(name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb, changed_by text, org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.create_clinic(name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb, changed_by text, org_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.create_clinic(name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb, changed_by text, org_id uuid) TO voxbook_rpc;

-- Name: FUNCTION dashboard_calendars(org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.dashboard_calendars(org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.dashboard_calendars(org_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.dashboard_calendars(org_id uuid) TO voxbook_rpc;

-- Name: FUNCTION dashboard_changes(org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.dashboard_changes(org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.dashboard_changes(org_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.dashboard_changes(org_id uuid) TO voxbook_rpc;

-- Name: FUNCTION dashboard_hot_lead(org_id uuid, alert_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.dashboard_hot_lead(org_id uuid, alert_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.dashboard_hot_lead(org_id uuid, alert_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.dashboard_hot_lead(org_id uuid, alert_id uuid) TO voxbook_rpc;

-- Name: FUNCTION dashboard_hot_leads(org_id uuid, max_leads integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.dashboard_hot_leads(org_id uuid, max_leads integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.dashboard_hot_leads(org_id uuid, max_leads integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.dashboard_hot_leads(org_id uuid, max_leads integer) TO voxbook_rpc;

-- Name: FUNCTION dashboard_hub_changes(org_ids uuid[]); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.dashboard_hub_changes(org_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.dashboard_hub_changes(org_ids uuid[]) TO voxbook_api;

-- Name: FUNCTION dashboard_lead(org_id uuid, call_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.dashboard_lead(org_id uuid, call_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.dashboard_lead(org_id uuid, call_id text) TO voxbook_api;
GRANT ALL ON FUNCTION api.dashboard_lead(org_id uuid, call_id text) TO voxbook_rpc;

-- Name: FUNCTION dashboard_live_holds(org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.dashboard_live_holds(org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.dashboard_live_holds(org_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.dashboard_live_holds(org_id uuid) TO voxbook_rpc;

-- Name: FUNCTION dashboard_login(email text, client_address text, org_id uuid, staff_id uuid, password_rehash text, session_hours integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.dashboard_login(email text, client_address text, org_id uuid, staff_id uuid, password_rehash text, session_hours integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.dashboard_login(email text, client_address text, org_id uuid, staff_id uuid, password_rehash text, session_hours integer) TO voxbook_api;

-- Name: FUNCTION dashboard_login_accounts(email text, client_address text, org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.dashboard_login_accounts(email text, client_address text, org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.dashboard_login_accounts(email text, client_address text, org_id uuid) TO voxbook_api;

-- Name: FUNCTION dashboard_logout(session text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.dashboard_logout(session text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.dashboard_logout(session text) TO voxbook_api;
GRANT ALL ON FUNCTION api.dashboard_logout(session text) TO voxbook_rpc;

-- Name: FUNCTION dashboard_queues(org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.dashboard_queues(org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.dashboard_queues(org_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.dashboard_queues(org_id uuid) TO voxbook_rpc;

-- Name: FUNCTION dashboard_reveal_phone(org_id uuid, call_id text, appointment_id uuid, hold_id uuid, callback_request_id uuid, inbox_id uuid, waitlist_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.dashboard_reveal_phone(org_id uuid, call_id text, appointment_id uuid, hold_id uuid, callback_request_id uuid, inbox_id uuid, waitlist_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.dashboard_reveal_phone(org_id uuid, call_id text, appointment_id uuid, hold_id uuid, callback_request_id uuid, inbox_id uuid, waitlist_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.dashboard_reveal_phone(org_id uuid, call_id text, appointment_id uuid, hold_id uuid, callback_request_id uuid, inbox_id uuid, waitlist_id uuid) TO voxbook_rpc;

-- Name: FUNCTION dashboard_schedule(org_id uuid, from_date date, days integer, calendar_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.dashboard_schedule(org_id uuid, from_date date, days integer, calendar_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.dashboard_schedule(org_id uuid, from_date date, days integer, calendar_id text) TO voxbook_api;
GRANT ALL ON FUNCTION api.dashboard_schedule(org_id uuid, from_date date, days integer, calendar_id text) TO voxbook_rpc;

-- Name: FUNCTION dashboard_session(session text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.dashboard_session(session text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.dashboard_session(session text) TO voxbook_api;
GRANT ALL ON FUNCTION api.dashboard_session(session text) TO voxbook_rpc;

-- Name: FUNCTION deactivate_provider(org_id uuid, calendar_id text, on_future text, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.deactivate_provider(org_id uuid, calendar_id text, on_future text, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.deactivate_provider(org_id uuid, calendar_id text, on_future text, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.deactivate_provider(org_id uuid, calendar_id text, on_future text, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION deactivate_staff(org_id uuid, staff_id uuid, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.deactivate_staff(org_id uuid, staff_id uuid, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.deactivate_staff(org_id uuid, staff_id uuid, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.deactivate_staff(org_id uuid, staff_id uuid, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION disconnect_calendar(org_id uuid, calendar_id text, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.disconnect_calendar(org_id uuid, calendar_id text, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.disconnect_calendar(org_id uuid, calendar_id text, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.disconnect_calendar(org_id uuid, calendar_id text, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION expire_stale_holds(org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.expire_stale_holds(org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.expire_stale_holds(org_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.expire_stale_holds(org_id uuid) TO voxbook_rpc;

-- Name: FUNCTION find_inbound_carrier_accounts(to_number text, account_sid text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.find_inbound_carrier_accounts(to_number text, account_sid text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.find_inbound_carrier_accounts(to_number text, account_sid text) TO voxbook_api;

-- Name: FUNCTION find_my_appointments(org_id uuid, call_id text, caller_phone text, phone text, code text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.find_my_appointments(org_id uuid, call_id text, caller_phone text, phone text, code text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.find_my_appointments(org_id uuid, call_id text, caller_phone text, phone text, code text) TO voxbook_api;
GRANT ALL ON FUNCTION api.find_my_appointments(org_id uuid, call_id text, caller_phone text, phone text, code text) TO voxbook_rpc;

-- Name: FUNCTION find_organization(phone text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.find_organization(phone text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.find_organization(phone text) TO voxbook_api;
GRANT ALL ON FUNCTION api.find_organization(phone text) TO voxbook_rpc;

-- Name: FUNCTION find_patient(org_id uuid, phone text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.find_patient(org_id uuid, phone text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.find_patient(org_id uuid, phone text) TO voxbook_api;
GRANT ALL ON FUNCTION api.find_patient(org_id uuid, phone text) TO voxbook_rpc;

-- Name: FUNCTION finish_calendar_sync(org_id uuid, connection_id uuid, worker_id text, error_class text, error text, next_seconds double precision, retry_base_seconds double precision); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.finish_calendar_sync(org_id uuid, connection_id uuid, worker_id text, error_class text, error text, next_seconds double precision, retry_base_seconds double precision) FROM PUBLIC;
GRANT ALL ON FUNCTION api.finish_calendar_sync(org_id uuid, connection_id uuid, worker_id text, error_class text, error text, next_seconds double precision, retry_base_seconds double precision) TO voxbook_api;
GRANT ALL ON FUNCTION api.finish_calendar_sync(org_id uuid, connection_id uuid, worker_id text, error_class text, error text, next_seconds double precision, retry_base_seconds double precision) TO voxbook_rpc;

-- Name: FUNCTION front_desk_transfer(org_id uuid, call_id text, caller_phone text, caller_name text, reason text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.front_desk_transfer(org_id uuid, call_id text, caller_phone text, caller_name text, reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.front_desk_transfer(org_id uuid, call_id text, caller_phone text, caller_name text, reason text) TO voxbook_api;
GRANT ALL ON FUNCTION api.front_desk_transfer(org_id uuid, call_id text, caller_phone text, caller_name text, reason text) TO voxbook_rpc;

-- Name: FUNCTION get_appointment(appointment_id uuid, org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.get_appointment(appointment_id uuid, org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_appointment(appointment_id uuid, org_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.get_appointment(appointment_id uuid, org_id uuid) TO voxbook_rpc;

-- Name: FUNCTION get_calendar_connection(org_id uuid, calendar_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.get_calendar_connection(org_id uuid, calendar_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_calendar_connection(org_id uuid, calendar_id text) TO voxbook_api;

-- Name: FUNCTION get_call(org_id uuid, call_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.get_call(org_id uuid, call_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_call(org_id uuid, call_id text) TO voxbook_api;
GRANT ALL ON FUNCTION api.get_call(org_id uuid, call_id text) TO voxbook_rpc;

-- Name: FUNCTION get_carrier_account(org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.get_carrier_account(org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_carrier_account(org_id uuid) TO voxbook_api;

-- Name: FUNCTION get_clinic(org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.get_clinic(org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_clinic(org_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.get_clinic(org_id uuid) TO voxbook_rpc;

-- Name: FUNCTION get_hold(hold_id uuid, org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.get_hold(hold_id uuid, org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_hold(hold_id uuid, org_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.get_hold(hold_id uuid, org_id uuid) TO voxbook_rpc;

-- Name: FUNCTION get_organization(org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.get_organization(org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_organization(org_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.get_organization(org_id uuid) TO voxbook_rpc;

-- Name: FUNCTION invite_staff(org_id uuid, email text, name text, role text, changed_by text, valid_hours integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.invite_staff(org_id uuid, email text, name text, role text, changed_by text, valid_hours integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.invite_staff(org_id uuid, email text, name text, role text, changed_by text, valid_hours integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.invite_staff(org_id uuid, email text, name text, role text, changed_by text, valid_hours integer) TO voxbook_rpc;

-- Name: FUNCTION issue_calendar_feed_token(org_id uuid, calendar_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.issue_calendar_feed_token(org_id uuid, calendar_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.issue_calendar_feed_token(org_id uuid, calendar_id text) TO voxbook_api;
GRANT ALL ON FUNCTION api.issue_calendar_feed_token(org_id uuid, calendar_id text) TO voxbook_rpc;

-- Name: FUNCTION issue_dashboard_token(org_id uuid, label text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.issue_dashboard_token(org_id uuid, label text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.issue_dashboard_token(org_id uuid, label text) TO voxbook_api;
GRANT ALL ON FUNCTION api.issue_dashboard_token(org_id uuid, label text) TO voxbook_rpc;

-- Name: FUNCTION join_waitlist(org_id uuid, caller_phone text, first_day date, last_day date, from_time time without time zone, to_time time without time zone, service text, calendar_id text, patient_name text, call_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.join_waitlist(org_id uuid, caller_phone text, first_day date, last_day date, from_time time without time zone, to_time time without time zone, service text, calendar_id text, patient_name text, call_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.join_waitlist(org_id uuid, caller_phone text, first_day date, last_day date, from_time time without time zone, to_time time without time zone, service text, calendar_id text, patient_name text, call_id text) TO voxbook_api;
GRANT ALL ON FUNCTION api.join_waitlist(org_id uuid, caller_phone text, first_day date, last_day date, from_time time without time zone, to_time time without time zone, service text, calendar_id text, patient_name text, call_id text) TO voxbook_rpc;

-- Name: FUNCTION list_appointments(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, calendar_id text, patient_phone text, status text, max_rows integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.list_appointments(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, calendar_id text, patient_phone text, status text, max_rows integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_appointments(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, calendar_id text, patient_phone text, status text, max_rows integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.list_appointments(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, calendar_id text, patient_phone text, status text, max_rows integer) TO voxbook_rpc;

-- Name: FUNCTION list_audit(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, entity text, max_rows integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.list_audit(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, entity text, max_rows integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_audit(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, entity text, max_rows integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.list_audit(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, entity text, max_rows integer) TO voxbook_rpc;

-- Name: FUNCTION list_blocks(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, calendar_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.list_blocks(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, calendar_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_blocks(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, calendar_id text) TO voxbook_api;
GRANT ALL ON FUNCTION api.list_blocks(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, calendar_id text) TO voxbook_rpc;

-- Name: FUNCTION list_calendar_conflicts(org_id uuid, calendar_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.list_calendar_conflicts(org_id uuid, calendar_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_calendar_conflicts(org_id uuid, calendar_id text) TO voxbook_api;
GRANT ALL ON FUNCTION api.list_calendar_conflicts(org_id uuid, calendar_id text) TO voxbook_rpc;

-- Name: FUNCTION list_calendar_connections(org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.list_calendar_connections(org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_calendar_connections(org_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.list_calendar_connections(org_id uuid) TO voxbook_rpc;

-- Name: FUNCTION list_callback_requests(org_id uuid, status text, max_rows integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.list_callback_requests(org_id uuid, status text, max_rows integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_callback_requests(org_id uuid, status text, max_rows integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.list_callback_requests(org_id uuid, status text, max_rows integer) TO voxbook_rpc;

-- Name: FUNCTION list_carrier_accounts(key_id_not text, max_rows integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.list_carrier_accounts(key_id_not text, max_rows integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_carrier_accounts(key_id_not text, max_rows integer) TO voxbook_api;

-- Name: FUNCTION list_failed_sms(org_id uuid, days integer, max_rows integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.list_failed_sms(org_id uuid, days integer, max_rows integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_failed_sms(org_id uuid, days integer, max_rows integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.list_failed_sms(org_id uuid, days integer, max_rows integer) TO voxbook_rpc;

-- Name: FUNCTION list_problem_sms(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, max_rows integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.list_problem_sms(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, max_rows integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_problem_sms(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, max_rows integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.list_problem_sms(org_id uuid, from_time timestamp with time zone, to_time timestamp with time zone, max_rows integer) TO voxbook_rpc;

-- Name: FUNCTION list_sms_inbox(org_id uuid, status text, max_items integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.list_sms_inbox(org_id uuid, status text, max_items integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_sms_inbox(org_id uuid, status text, max_items integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.list_sms_inbox(org_id uuid, status text, max_items integer) TO voxbook_rpc;

-- Name: FUNCTION list_staff(org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.list_staff(org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_staff(org_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.list_staff(org_id uuid) TO voxbook_rpc;

-- Name: FUNCTION list_waitlist(org_id uuid, status text, max_rows integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.list_waitlist(org_id uuid, status text, max_rows integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_waitlist(org_id uuid, status text, max_rows integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.list_waitlist(org_id uuid, status text, max_rows integer) TO voxbook_rpc;

-- Name: FUNCTION mark_attendance(org_id uuid, appointment_id uuid, attendance text, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.mark_attendance(org_id uuid, appointment_id uuid, attendance text, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.mark_attendance(org_id uuid, appointment_id uuid, attendance text, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.mark_attendance(org_id uuid, appointment_id uuid, attendance text, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION mark_sms_failed(org_id uuid, message_id uuid, worker_id text, error_code text, error_message text, permanent boolean, ambiguous boolean, retry_base_seconds double precision); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.mark_sms_failed(org_id uuid, message_id uuid, worker_id text, error_code text, error_message text, permanent boolean, ambiguous boolean, retry_base_seconds double precision) FROM PUBLIC;
GRANT ALL ON FUNCTION api.mark_sms_failed(org_id uuid, message_id uuid, worker_id text, error_code text, error_message text, permanent boolean, ambiguous boolean, retry_base_seconds double precision) TO voxbook_api;
GRANT ALL ON FUNCTION api.mark_sms_failed(org_id uuid, message_id uuid, worker_id text, error_code text, error_message text, permanent boolean, ambiguous boolean, retry_base_seconds double precision) TO voxbook_rpc;

-- Name: FUNCTION mark_sms_sent(org_id uuid, message_id uuid, provider_message_id text, provider_status text, provider_segments integer, worker_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.mark_sms_sent(org_id uuid, message_id uuid, provider_message_id text, provider_status text, provider_segments integer, worker_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.mark_sms_sent(org_id uuid, message_id uuid, provider_message_id text, provider_status text, provider_segments integer, worker_id text) TO voxbook_api;
GRANT ALL ON FUNCTION api.mark_sms_sent(org_id uuid, message_id uuid, provider_message_id text, provider_status text, provider_segments integer, worker_id text) TO voxbook_rpc;

-- Name: FUNCTION mark_sms_sent_batch(reports jsonb, worker_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.mark_sms_sent_batch(reports jsonb, worker_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.mark_sms_sent_batch(reports jsonb, worker_id text) TO voxbook_api;
GRANT ALL ON FUNCTION api.mark_sms_sent_batch(reports jsonb, worker_id text) TO voxbook_rpc;

-- Name: FUNCTION offer_waitlist_openings(org_id uuid, max_offers integer, reply_minutes integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.offer_waitlist_openings(org_id uuid, max_offers integer, reply_minutes integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.offer_waitlist_openings(org_id uuid, max_offers integer, reply_minutes integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.offer_waitlist_openings(org_id uuid, max_offers integer, reply_minutes integer) TO voxbook_rpc;

-- Name: FUNCTION purge_tool_calls(org_id uuid, older_than interval); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.purge_tool_calls(org_id uuid, older_than interval) FROM PUBLIC;
GRANT ALL ON FUNCTION api.purge_tool_calls(org_id uuid, older_than interval) TO voxbook_api;
GRANT ALL ON FUNCTION api.purge_tool_calls(org_id uuid, older_than interval) TO voxbook_rpc;

-- Name: FUNCTION record_calendar_push(org_id uuid, connection_id uuid, appointment_id uuid, href text, etag text, starts_at timestamp with time zone, ends_at timestamp with time zone, title text, deleted boolean, worker_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.record_calendar_push(org_id uuid, connection_id uuid, appointment_id uuid, href text, etag text, starts_at timestamp with time zone, ends_at timestamp with time zone, title text, deleted boolean, worker_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.record_calendar_push(org_id uuid, connection_id uuid, appointment_id uuid, href text, etag text, starts_at timestamp with time zone, ends_at timestamp with time zone, title text, deleted boolean, worker_id text) TO voxbook_api;
GRANT ALL ON FUNCTION api.record_calendar_push(org_id uuid, connection_id uuid, appointment_id uuid, href text, etag text, starts_at timestamp with time zone, ends_at timestamp with time zone, title text, deleted boolean, worker_id text) TO voxbook_rpc;

-- Name: FUNCTION record_call_end(org_id uuid, call_id text, started_at timestamp with time zone, ended_at timestamp with time zone, customer_phone text, transcript text, summary text, structured_data jsonb, ended_reason text, success_evaluation text, provider_call_sid text, duration_seconds integer); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.record_call_end(org_id uuid, call_id text, started_at timestamp with time zone, ended_at timestamp with time zone, customer_phone text, transcript text, summary text, structured_data jsonb, ended_reason text, success_evaluation text, provider_call_sid text, duration_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.record_call_end(org_id uuid, call_id text, started_at timestamp with time zone, ended_at timestamp with time zone, customer_phone text, transcript text, summary text, structured_data jsonb, ended_reason text, success_evaluation text, provider_call_sid text, duration_seconds integer) TO voxbook_api;
GRANT ALL ON FUNCTION api.record_call_end(org_id uuid, call_id text, started_at timestamp with time zone, ended_at timestamp with time zone, customer_phone text, transcript text, summary text, structured_data jsonb, ended_reason text, success_evaluation text, provider_call_sid text, duration_seconds integer) TO voxbook_rpc;

-- Name: FUNCTION record_inbound_sms(to_number text, from_number text, body text, message_sid text, opt_out_type text, org_ids uuid[]); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.record_inbound_sms(to_number text, from_number text, body text, message_sid text, opt_out_type text, org_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.record_inbound_sms(to_number text, from_number text, body text, message_sid text, opt_out_type text, org_ids uuid[]) TO voxbook_api;
GRANT ALL ON FUNCTION api.record_inbound_sms(to_number text, from_number text, body text, message_sid text, opt_out_type text, org_ids uuid[]) TO voxbook_rpc;

-- Name: FUNCTION record_sms_status(message_sid text, message_status text, error_code text, error_message text, org_id uuid, message_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.record_sms_status(message_sid text, message_status text, error_code text, error_message text, org_id uuid, message_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.record_sms_status(message_sid text, message_status text, error_code text, error_message text, org_id uuid, message_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.record_sms_status(message_sid text, message_status text, error_code text, error_message text, org_id uuid, message_id uuid) TO voxbook_rpc;

-- Name: FUNCTION record_transfer_failure(org_id uuid, call_id text, caller_phone text, ended_reason text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.record_transfer_failure(org_id uuid, call_id text, caller_phone text, ended_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.record_transfer_failure(org_id uuid, call_id text, caller_phone text, ended_reason text) TO voxbook_api;
GRANT ALL ON FUNCTION api.record_transfer_failure(org_id uuid, call_id text, caller_phone text, ended_reason text) TO voxbook_rpc;

-- Name: FUNCTION release_calendar_claims(worker_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.release_calendar_claims(worker_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.release_calendar_claims(worker_id text) TO voxbook_api;
GRANT ALL ON FUNCTION api.release_calendar_claims(worker_id text) TO voxbook_rpc;

-- Name: FUNCTION release_hold(hold_id uuid, org_id uuid, reason text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.release_hold(hold_id uuid, org_id uuid, reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.release_hold(hold_id uuid, org_id uuid, reason text) TO voxbook_api;
GRANT ALL ON FUNCTION api.release_hold(hold_id uuid, org_id uuid, reason text) TO voxbook_rpc;

-- Name: FUNCTION release_sms_claims(worker_id text, message_ids uuid[]); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.release_sms_claims(worker_id text, message_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.release_sms_claims(worker_id text, message_ids uuid[]) TO voxbook_api;
GRANT ALL ON FUNCTION api.release_sms_claims(worker_id text, message_ids uuid[]) TO voxbook_rpc;

-- Name: FUNCTION remove_from_waitlist(org_id uuid, waitlist_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.remove_from_waitlist(org_id uuid, waitlist_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.remove_from_waitlist(org_id uuid, waitlist_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.remove_from_waitlist(org_id uuid, waitlist_id uuid) TO voxbook_rpc;

-- Name: FUNCTION reschedule_appointment(appointment_id uuid, org_id uuid, slot_time timestamp with time zone, calendar_id text, patient_phone text, notify boolean, staff_user text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.reschedule_appointment(appointment_id uuid, org_id uuid, slot_time timestamp with time zone, calendar_id text, patient_phone text, notify boolean, staff_user text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.reschedule_appointment(appointment_id uuid, org_id uuid, slot_time timestamp with time zone, calendar_id text, patient_phone text, notify boolean, staff_user text) TO voxbook_api;
GRANT ALL ON FUNCTION api.reschedule_appointment(appointment_id uuid, org_id uuid, slot_time timestamp with time zone, calendar_id text, patient_phone text, notify boolean, staff_user text) TO voxbook_rpc;

-- Name: FUNCTION reschedule_my_appointment(org_id uuid, slot_time timestamp with time zone, call_id text, caller_phone text, phone text, appointment_id uuid, which integer, at text, calendar_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.reschedule_my_appointment(org_id uuid, slot_time timestamp with time zone, call_id text, caller_phone text, phone text, appointment_id uuid, which integer, at text, calendar_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.reschedule_my_appointment(org_id uuid, slot_time timestamp with time zone, call_id text, caller_phone text, phone text, appointment_id uuid, which integer, at text, calendar_id text) TO voxbook_api;
GRANT ALL ON FUNCTION api.reschedule_my_appointment(org_id uuid, slot_time timestamp with time zone, call_id text, caller_phone text, phone text, appointment_id uuid, which integer, at text, calendar_id text) TO voxbook_rpc;

-- Name: FUNCTION resend_sms(org_id uuid, message_id uuid, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.resend_sms(org_id uuid, message_id uuid, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.resend_sms(org_id uuid, message_id uuid, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.resend_sms(org_id uuid, message_id uuid, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION resolve_callback_request(org_id uuid, callback_request_id uuid, done_by text, note text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.resolve_callback_request(org_id uuid, callback_request_id uuid, done_by text, note text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.resolve_callback_request(org_id uuid, callback_request_id uuid, done_by text, note text) TO voxbook_api;
GRANT ALL ON FUNCTION api.resolve_callback_request(org_id uuid, callback_request_id uuid, done_by text, note text) TO voxbook_rpc;

-- Name: FUNCTION resolve_sms_inbox_item(org_id uuid, inbox_id uuid, done_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.resolve_sms_inbox_item(org_id uuid, inbox_id uuid, done_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.resolve_sms_inbox_item(org_id uuid, inbox_id uuid, done_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.resolve_sms_inbox_item(org_id uuid, inbox_id uuid, done_by text) TO voxbook_rpc;

-- Name: FUNCTION revoke_calendar_feed_tokens(org_id uuid, calendar_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.revoke_calendar_feed_tokens(org_id uuid, calendar_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.revoke_calendar_feed_tokens(org_id uuid, calendar_id text) TO voxbook_api;
GRANT ALL ON FUNCTION api.revoke_calendar_feed_tokens(org_id uuid, calendar_id text) TO voxbook_rpc;

-- Name: FUNCTION revoke_dashboard_token(org_id uuid, token_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.revoke_dashboard_token(org_id uuid, token_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.revoke_dashboard_token(org_id uuid, token_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.revoke_dashboard_token(org_id uuid, token_id uuid) TO voxbook_rpc;

-- Name: FUNCTION run_tool(org_id uuid, function_name text, args jsonb); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.run_tool(org_id uuid, function_name text, args jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.run_tool(org_id uuid, function_name text, args jsonb) TO voxbook_api;
GRANT ALL ON FUNCTION api.run_tool(org_id uuid, function_name text, args jsonb) TO voxbook_rpc;

-- Name: FUNCTION run_tool_call(org_id uuid, tool_call_id text, tool_name text, function_name text, args jsonb, call_id text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.run_tool_call(org_id uuid, tool_call_id text, tool_name text, function_name text, args jsonb, call_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.run_tool_call(org_id uuid, tool_call_id text, tool_name text, function_name text, args jsonb, call_id text) TO voxbook_api;
GRANT ALL ON FUNCTION api.run_tool_call(org_id uuid, tool_call_id text, tool_name text, function_name text, args jsonb, call_id text) TO voxbook_rpc;

-- Name: FUNCTION score_lead(duration_seconds integer, booked boolean, service_value text, transcript text, sentiment text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.score_lead(duration_seconds integer, booked boolean, service_value text, transcript text, sentiment text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.score_lead(duration_seconds integer, booked boolean, service_value text, transcript text, sentiment text) TO voxbook_api;
GRANT ALL ON FUNCTION api.score_lead(duration_seconds integer, booked boolean, service_value text, transcript text, sentiment text) TO voxbook_rpc;

-- Name: FUNCTION send_confirmation_sms(appointment_id uuid, org_id uuid); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.send_confirmation_sms(appointment_id uuid, org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.send_confirmation_sms(appointment_id uuid, org_id uuid) TO voxbook_api;
GRANT ALL ON FUNCTION api.send_confirmation_sms(appointment_id uuid, org_id uuid) TO voxbook_rpc;

-- Name: FUNCTION send_otp_code(hold_id uuid, org_id uuid, patient_phone text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.send_otp_code(hold_id uuid, org_id uuid, patient_phone text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.send_otp_code(hold_id uuid, org_id uuid, patient_phone text) TO voxbook_api;
GRANT ALL ON FUNCTION api.send_otp_code(hold_id uuid, org_id uuid, patient_phone text) TO voxbook_rpc;

-- Name: FUNCTION set_call_language(org_id uuid, call_id text, language text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.set_call_language(org_id uuid, call_id text, language text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.set_call_language(org_id uuid, call_id text, language text) TO voxbook_api;
GRANT ALL ON FUNCTION api.set_call_language(org_id uuid, call_id text, language text) TO voxbook_rpc;

-- Name: FUNCTION set_carrier_account(org_id uuid, account_sid text, auth_token_ciphertext text, key_id text, messaging_service_sid text, parent_account_sid text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.set_carrier_account(org_id uuid, account_sid text, auth_token_ciphertext text, key_id text, messaging_service_sid text, parent_account_sid text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.set_carrier_account(org_id uuid, account_sid text, auth_token_ciphertext text, key_id text, messaging_service_sid text, parent_account_sid text) TO voxbook_api;
GRANT ALL ON FUNCTION api.set_carrier_account(org_id uuid, account_sid text, auth_token_ciphertext text, key_id text, messaging_service_sid text, parent_account_sid text) TO voxbook_rpc;

-- Name: FUNCTION set_hours_exception(org_id uuid, calendar_id text, on_date date, hours jsonb, reason text, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.set_hours_exception(org_id uuid, calendar_id text, on_date date, hours jsonb, reason text, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.set_hours_exception(org_id uuid, calendar_id text, on_date date, hours jsonb, reason text, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.set_hours_exception(org_id uuid, calendar_id text, on_date date, hours jsonb, reason text, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION set_staff_role(org_id uuid, staff_id uuid, role text, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.set_staff_role(org_id uuid, staff_id uuid, role text, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.set_staff_role(org_id uuid, staff_id uuid, role text, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.set_staff_role(org_id uuid, staff_id uuid, role text, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION set_working_hours(org_id uuid, calendar_id text, hours jsonb, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.set_working_hours(org_id uuid, calendar_id text, hours jsonb, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.set_working_hours(org_id uuid, calendar_id text, hours jsonb, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.set_working_hours(org_id uuid, calendar_id text, hours jsonb, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION staff_invite(token text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.staff_invite(token text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.staff_invite(token text) TO voxbook_api;
GRANT ALL ON FUNCTION api.staff_invite(token text) TO voxbook_rpc;

-- Name: FUNCTION staff_remove_from_waitlist(org_id uuid, waitlist_id uuid, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.staff_remove_from_waitlist(org_id uuid, waitlist_id uuid, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.staff_remove_from_waitlist(org_id uuid, waitlist_id uuid, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.staff_remove_from_waitlist(org_id uuid, waitlist_id uuid, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION unblock_time(org_id uuid, block_id bigint, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.unblock_time(org_id uuid, block_id bigint, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.unblock_time(org_id uuid, block_id bigint, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.unblock_time(org_id uuid, block_id bigint, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION update_clinic(org_id uuid, name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.update_clinic(org_id uuid, name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.update_clinic(org_id uuid, name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.update_clinic(org_id uuid, name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION upsert_provider(org_id uuid, calendar_id text, display_name text, slot_minutes integer, default_duration_minutes integer, active boolean, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.upsert_provider(org_id uuid, calendar_id text, display_name text, slot_minutes integer, default_duration_minutes integer, active boolean, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.upsert_provider(org_id uuid, calendar_id text, display_name text, slot_minutes integer, default_duration_minutes integer, active boolean, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.upsert_provider(org_id uuid, calendar_id text, display_name text, slot_minutes integer, default_duration_minutes integer, active boolean, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION upsert_service(org_id uuid, service_id text, name text, duration_minutes integer, buffer_before_minutes integer, buffer_after_minutes integer, price_cents integer, value_tier text, providers text[], active boolean, changed_by text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.upsert_service(org_id uuid, service_id text, name text, duration_minutes integer, buffer_before_minutes integer, buffer_after_minutes integer, price_cents integer, value_tier text, providers text[], active boolean, changed_by text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.upsert_service(org_id uuid, service_id text, name text, duration_minutes integer, buffer_before_minutes integer, buffer_after_minutes integer, price_cents integer, value_tier text, providers text[], active boolean, changed_by text) TO voxbook_api;
GRANT ALL ON FUNCTION api.upsert_service(org_id uuid, service_id text, name text, duration_minutes integer, buffer_before_minutes integer, buffer_after_minutes integer, price_cents integer, value_tier text, providers text[], active boolean, changed_by text) TO voxbook_rpc;

-- Name: FUNCTION verify_otp(hold_id uuid, org_id uuid, code text, contact_id uuid, service text); Type: ACL; Schema: api; Owner: -

REVOKE ALL ON FUNCTION api.verify_otp(hold_id uuid, org_id uuid, code text, contact_id uuid, service text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.verify_otp(hold_id uuid, org_id uuid, code text, contact_id uuid, service text) TO voxbook_api;
GRANT ALL ON FUNCTION api.verify_otp(hold_id uuid, org_id uuid, code text, contact_id uuid, service text) TO voxbook_rpc;

-- Name: FUNCTION alternatives(o voxbook.organizations, s voxbook.services, lost timestamp with time zone, tag text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.alternatives(o voxbook.organizations, s voxbook.services, lost timestamp with time zone, tag text) FROM PUBLIC;

-- Name: FUNCTION apply_clinic(o voxbook.organizations, name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.apply_clinic(o voxbook.organizations, name text, phone text, time_zone text, country text, locale text, languages text[], hot_lead_phone text, sms_from text, settings jsonb) FROM PUBLIC;

-- Name: FUNCTION appointment_audit(org_id uuid, appointment_id uuid); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.appointment_audit(org_id uuid, appointment_id uuid) FROM PUBLIC;

-- Name: FUNCTION appointment_json(org_id uuid, appointment_id uuid); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.appointment_json(org_id uuid, appointment_id uuid) FROM PUBLIC;

-- Name: FUNCTION appointment_sms(kind text, org_id uuid, appointment_id uuid); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.appointment_sms(kind text, org_id uuid, appointment_id uuid) FROM PUBLIC;

-- Name: FUNCTION assert_bookable(o voxbook.organizations, c voxbook.calendars, starts_at timestamp with time zone, ends_at timestamp with time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.assert_bookable(o voxbook.organizations, c voxbook.calendars, starts_at timestamp with time zone, ends_at timestamp with time zone) FROM PUBLIC;

-- Name: FUNCTION attendance_json(a voxbook.appointments); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.attendance_json(a voxbook.appointments) FROM PUBLIC;

-- Name: FUNCTION audit(org_id uuid, changed_by text, action text, entity text, entity_id text, before jsonb, after jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.audit(org_id uuid, changed_by text, action text, entity text, entity_id text, before jsonb, after jsonb) FROM PUBLIC;

-- Name: FUNCTION audit_name(who text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.audit_name(who text) FROM PUBLIC;

-- Name: FUNCTION block_json(b voxbook.blocked_periods, tz text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.block_json(b voxbook.blocked_periods, tz text) FROM PUBLIC;

-- Name: FUNCTION booking_json(h voxbook.holds, appointment_id uuid, patient_name text, tz text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.booking_json(h voxbook.holds, appointment_id uuid, patient_name text, tz text) FROM PUBLIC;

-- Name: FUNCTION bookings_detail(bookings jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.bookings_detail(bookings jsonb) FROM PUBLIC;

-- Name: FUNCTION bookings_during(o voxbook.organizations, calendar_id text, during tstzrange); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.bookings_during(o voxbook.organizations, calendar_id text, during tstzrange) FROM PUBLIC;

-- Name: FUNCTION bookings_phrase(bookings jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.bookings_phrase(bookings jsonb) FROM PUBLIC;

-- Name: FUNCTION calendar_claim_json(cc voxbook.calendar_connections, o voxbook.organizations, c voxbook.calendars, lease timestamp with time zone, now_ts timestamp with time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.calendar_claim_json(cc voxbook.calendar_connections, o voxbook.organizations, c voxbook.calendars, lease timestamp with time zone, now_ts timestamp with time zone) FROM PUBLIC;

-- Name: FUNCTION calendar_connection_json(cc voxbook.calendar_connections, tz text, now_ts timestamp with time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.calendar_connection_json(cc voxbook.calendar_connections, tz text, now_ts timestamp with time zone) FROM PUBLIC;

-- Name: FUNCTION calendar_event_title(template text, policy text, service_name text, provider_name text, patient text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.calendar_event_title(template text, policy text, service_name text, provider_name text, patient text) FROM PUBLIC;

-- Name: FUNCTION calendar_lock_key(org_id uuid, calendar_id text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.calendar_lock_key(org_id uuid, calendar_id text) FROM PUBLIC;

-- Name: FUNCTION call_field_limits(); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.call_field_limits() FROM PUBLIC;

-- Name: FUNCTION call_json(c voxbook.calls); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.call_json(c voxbook.calls) FROM PUBLIC;

-- Name: FUNCTION call_locale(o voxbook.organizations, vapi_call_id text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.call_locale(o voxbook.organizations, vapi_call_id text) FROM PUBLIC;

-- Name: FUNCTION callback_for_refusal(o voxbook.organizations, function_name text, args jsonb, result jsonb, call_id text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.callback_for_refusal(o voxbook.organizations, function_name text, args jsonb, result jsonb, call_id text) FROM PUBLIC;

-- Name: FUNCTION callback_json(r voxbook.callback_requests, o voxbook.organizations); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.callback_json(r voxbook.callback_requests, o voxbook.organizations) FROM PUBLIC;

-- Name: FUNCTION callback_kinds(); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.callback_kinds() FROM PUBLIC;

-- Name: FUNCTION caller_code_minutes(); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.caller_code_minutes() FROM PUBLIC;

-- Name: FUNCTION caller_verified_for(); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.caller_verified_for() FROM PUBLIC;

-- Name: FUNCTION cancel_unsent_codes(org_id uuid, hold_id uuid, reason text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.cancel_unsent_codes(org_id uuid, hold_id uuid, reason text) FROM PUBLIC;

-- Name: FUNCTION carrier_account_json(a voxbook.carrier_accounts); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.carrier_account_json(a voxbook.carrier_accounts) FROM PUBLIC;

-- Name: FUNCTION catalogued(language text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.catalogued(language text) FROM PUBLIC;

-- Name: FUNCTION changed_by(changed_by text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.changed_by(changed_by text) FROM PUBLIC;

-- Name: FUNCTION check_caller_code(o voxbook.organizations, call_id text, number text, code text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.check_caller_code(o voxbook.organizations, call_id text, number text, code text) FROM PUBLIC;

-- Name: FUNCTION clear_future(o voxbook.organizations, c voxbook.calendars, on_future text, changed_by text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.clear_future(o voxbook.organizations, c voxbook.calendars, on_future text, changed_by text) FROM PUBLIC;

-- Name: FUNCTION client_address(client_address text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.client_address(client_address text) FROM PUBLIC;

-- Name: FUNCTION clinic_json(o voxbook.organizations); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.clinic_json(o voxbook.organizations) FROM PUBLIC;

-- Name: FUNCTION clinic_locale(clinic_locale text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.clinic_locale(clinic_locale text) FROM PUBLIC;

-- Name: FUNCTION clinic_open(o voxbook.organizations, at_ts timestamp with time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.clinic_open(o voxbook.organizations, at_ts timestamp with time zone) FROM PUBLIC;

-- Name: FUNCTION clinic_row(o voxbook.organizations); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.clinic_row(o voxbook.organizations) FROM PUBLIC;

-- Name: FUNCTION clinic_setting_keys(); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.clinic_setting_keys() FROM PUBLIC;

-- Name: FUNCTION clock(); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.clock() FROM PUBLIC;

-- Name: FUNCTION code_hash(salt bytea, code text, pepper bytea); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.code_hash(salt bytea, code text, pepper bytea) FROM PUBLIC;

-- Name: FUNCTION code_pepper(); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.code_pepper() FROM PUBLIC;

-- Name: FUNCTION code_rate_limit(o voxbook.organizations, kind text, phone text, vapi_call_id text, hold_id uuid, now_ts timestamp with time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.code_rate_limit(o voxbook.organizations, kind text, phone text, vapi_call_id text, hold_id uuid, now_ts timestamp with time zone) FROM PUBLIC;

-- Name: FUNCTION codes_unavailable(hold_id uuid); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.codes_unavailable(hold_id uuid) FROM PUBLIC;

-- Name: FUNCTION confirm_hold(org_id uuid, hold_id uuid, contact_id uuid, service text, via text, staff_user text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.confirm_hold(org_id uuid, hold_id uuid, contact_id uuid, service text, via text, staff_user text) FROM PUBLIC;

-- Name: FUNCTION connection_by_id(org_id uuid, connection_id uuid, lock boolean); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.connection_by_id(org_id uuid, connection_id uuid, lock boolean) FROM PUBLIC;

-- Name: FUNCTION dashboard_call_json(for_org uuid, for_call uuid); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.dashboard_call_json(for_org uuid, for_call uuid) FROM PUBLIC;

-- Name: FUNCTION dashboard_day_blocks(o voxbook.organizations, for_calendar text, for_day date, loc jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.dashboard_day_blocks(o voxbook.organizations, for_calendar text, for_day date, loc jsonb) FROM PUBLIC;

-- Name: FUNCTION dashboard_day_entries(o voxbook.organizations, for_calendar text, for_day date, now_ts timestamp with time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.dashboard_day_entries(o voxbook.organizations, for_calendar text, for_day date, now_ts timestamp with time zone) FROM PUBLIC;

-- Name: FUNCTION day_hours(org_id uuid, calendar_id text, on_date date); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.day_hours(org_id uuid, calendar_id text, on_date date) FROM PUBLIC;

-- Name: FUNCTION day_keys(); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.day_keys() FROM PUBLIC;

-- Name: FUNCTION default_locale_formats(); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.default_locale_formats() FROM PUBLIC;

-- Name: FUNCTION derive_locale(country text, languages text[]); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.derive_locale(country text, languages text[]) FROM PUBLIC;

-- Name: FUNCTION display_phone(e164 text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.display_phone(e164 text) FROM PUBLIC;

-- Name: FUNCTION display_phone(e164 text, country text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.display_phone(e164 text, country text) FROM PUBLIC;

-- Name: FUNCTION distinct_texts(items text[]); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.distinct_texts(items text[]) FROM PUBLIC;

-- Name: FUNCTION exceptions_json(org_id uuid, calendar_id text, from_date date); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.exceptions_json(org_id uuid, calendar_id text, from_date date) FROM PUBLIC;

-- Name: FUNCTION fail(code text, message text, hint text, detail text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.fail(code text, message text, hint text, detail text) FROM PUBLIC;

-- Name: FUNCTION field_locale(clinic_locale text, tag text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.field_locale(clinic_locale text, tag text) FROM PUBLIC;

-- Name: FUNCTION fill_template(key text, template text, args jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.fill_template(key text, template text, args jsonb) FROM PUBLIC;

-- Name: FUNCTION fill_time(template text, lt timestamp without time zone, loc jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.fill_time(template text, lt timestamp without time zone, loc jsonb) FROM PUBLIC;

-- Name: FUNCTION find_invite(token text, lock boolean, OUT inv voxbook.staff_invites, OUT refused jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.find_invite(token text, lock boolean, OUT inv voxbook.staff_invites, OUT refused jsonb) FROM PUBLIC;

-- Name: FUNCTION find_service(org_id uuid, service text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.find_service(org_id uuid, service text) FROM PUBLIC;

-- Name: FUNCTION flag_may_not_come(org_id uuid, phone text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.flag_may_not_come(org_id uuid, phone text) FROM PUBLIC;

-- Name: FUNCTION flip_expired_holds(org_id uuid, calendar_id text, during tstzrange); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.flip_expired_holds(org_id uuid, calendar_id text, during tstzrange) FROM PUBLIC;

-- Name: FUNCTION free_slots(o voxbook.organizations, calendar_id text, s voxbook.services, first_day date, days integer); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.free_slots(o voxbook.organizations, calendar_id text, s voxbook.services, first_day date, days integer) FROM PUBLIC;

-- Name: FUNCTION front_desk_number(o voxbook.organizations); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.front_desk_number(o voxbook.organizations) FROM PUBLIC;

-- Name: FUNCTION gsm7(t text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.gsm7(t text) FROM PUBLIC;

-- Name: FUNCTION hhmm(t time without time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.hhmm(t time without time zone) FROM PUBLIC;

-- Name: FUNCTION hold_json(h voxbook.holds, o voxbook.organizations, c voxbook.calendars, message text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.hold_json(h voxbook.holds, o voxbook.organizations, c voxbook.calendars, message text) FROM PUBLIC;

-- Name: FUNCTION in_time_range(value timestamp with time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.in_time_range(value timestamp with time zone) FROM PUBLIC;

-- Name: FUNCTION is_failed_transfer(ended_reason text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.is_failed_transfer(ended_reason text) FROM PUBLIC;

-- Name: FUNCTION keep_an_owner(org_id uuid, losing uuid); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.keep_an_owner(org_id uuid, losing uuid) FROM PUBLIC;

-- Name: FUNCTION local_clock(ts timestamp with time zone, tz text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.local_clock(ts timestamp with time zone, tz text) FROM PUBLIC;

-- Name: FUNCTION local_clock(ts timestamp with time zone, tz text, loc jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.local_clock(ts timestamp with time zone, tz text, loc jsonb) FROM PUBLIC;

-- Name: FUNCTION local_day(ts timestamp with time zone, tz text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.local_day(ts timestamp with time zone, tz text) FROM PUBLIC;

-- Name: FUNCTION local_day(ts timestamp with time zone, tz text, loc jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.local_day(ts timestamp with time zone, tz text, loc jsonb) FROM PUBLIC;

-- Name: FUNCTION local_instants(local_ts timestamp without time zone, tz text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.local_instants(local_ts timestamp without time zone, tz text) FROM PUBLIC;

-- Name: FUNCTION local_text(ts timestamp with time zone, tz text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.local_text(ts timestamp with time zone, tz text) FROM PUBLIC;

-- Name: FUNCTION local_text(ts timestamp with time zone, tz text, loc jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.local_text(ts timestamp with time zone, tz text, loc jsonb) FROM PUBLIC;

-- Name: FUNCTION local_text_iso(iso text, tz text, loc jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.local_text_iso(iso text, tz text, loc jsonb) FROM PUBLIC;

-- Name: FUNCTION local_text_of(lt timestamp without time zone, loc jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.local_text_of(lt timestamp without time zone, loc jsonb) FROM PUBLIC;

-- Name: FUNCTION locale(tag text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.locale(tag text) FROM PUBLIC;

-- Name: FUNCTION lock_appointment(org_id uuid, appointment_id uuid, patient_phone text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.lock_appointment(org_id uuid, appointment_id uuid, patient_phone text) FROM PUBLIC;

-- Name: FUNCTION lock_calendar(org_id uuid, calendar_id text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.lock_calendar(org_id uuid, calendar_id text) FROM PUBLIC;

-- Name: FUNCTION lock_calendar_change(org_id uuid, calendar_id text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.lock_calendar_change(org_id uuid, calendar_id text) FROM PUBLIC;

-- Name: FUNCTION lock_clinic_calendars(org_id uuid); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.lock_clinic_calendars(org_id uuid) FROM PUBLIC;

-- Name: FUNCTION lock_hold(org_id uuid, hold_id uuid); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.lock_hold(org_id uuid, hold_id uuid) FROM PUBLIC;

-- Name: FUNCTION mask_phone(e164 text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.mask_phone(e164 text) FROM PUBLIC;

-- Name: FUNCTION message(key text, language text, args jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.message(key text, language text, args jsonb) FROM PUBLIC;

-- Name: FUNCTION my_access(o voxbook.organizations, call_id text, caller_phone text, phone text, OUT subject text, OUT refused jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.my_access(o voxbook.organizations, call_id text, caller_phone text, phone text, OUT subject text, OUT refused jsonb) FROM PUBLIC;

-- Name: FUNCTION my_appointments_line(function_name text, result jsonb, language text, tz text, loc jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.my_appointments_line(function_name text, result jsonb, language text, tz text, loc jsonb) FROM PUBLIC;

-- Name: FUNCTION my_identity(o voxbook.organizations, call_id text, caller_phone text, phone text, OUT subject text, OUT verified boolean); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.my_identity(o voxbook.organizations, call_id text, caller_phone text, phone text, OUT subject text, OUT verified boolean) FROM PUBLIC;

-- Name: FUNCTION my_upcoming(o voxbook.organizations, subject text, call_id text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.my_upcoming(o voxbook.organizations, subject text, call_id text) FROM PUBLIC;

-- Name: FUNCTION national_formats(); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.national_formats() FROM PUBLIC;

-- Name: FUNCTION new_secret(prefix text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.new_secret(prefix text) FROM PUBLIC;

-- Name: FUNCTION next_appointment(org_id uuid, phone text, now_ts timestamp with time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.next_appointment(org_id uuid, phone text, now_ts timestamp with time zone) FROM PUBLIC;

-- Name: FUNCTION normalize_phone(raw text, country text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.normalize_phone(raw text, country text) FROM PUBLIC;

-- Name: FUNCTION notice_refusal(o voxbook.organizations, appointment_id uuid, starts timestamp with time zone, staff_user text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.notice_refusal(o voxbook.organizations, appointment_id uuid, starts timestamp with time zone, staff_user text) FROM PUBLIC;

-- Name: FUNCTION notify(channel text, payload text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.notify(channel text, payload text) FROM PUBLIC;

-- Name: FUNCTION occupied(starts_at timestamp with time zone, ends_at timestamp with time zone, before_minutes integer, after_minutes integer); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.occupied(starts_at timestamp with time zone, ends_at timestamp with time zone, before_minutes integer, after_minutes integer) FROM PUBLIC;

-- Name: FUNCTION offers(c voxbook.calendars, s voxbook.services); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.offers(c voxbook.calendars, s voxbook.services) FROM PUBLIC;

-- Name: FUNCTION one_line(t text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.one_line(t text) FROM PUBLIC;

-- Name: FUNCTION open_session(s voxbook.staff_accounts, session_hours integer); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.open_session(s voxbook.staff_accounts, session_hours integer) FROM PUBLIC;

-- Name: FUNCTION or_list(items text[], language text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.or_list(items text[], language text) FROM PUBLIC;

-- Name: FUNCTION organization_json(o voxbook.organizations); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.organization_json(o voxbook.organizations) FROM PUBLIC;

-- Name: FUNCTION outside_hours(o voxbook.organizations, calendar_id text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.outside_hours(o voxbook.organizations, calendar_id text) FROM PUBLIC;

-- Name: FUNCTION parse_intervals(day text, intervals jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.parse_intervals(day text, intervals jsonb) FROM PUBLIC;

-- Name: FUNCTION phone_hint(country text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.phone_hint(country text) FROM PUBLIC;

-- Name: FUNCTION pick_my_appointment(list jsonb, tz text, appointment_id uuid, which integer, at text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.pick_my_appointment(list jsonb, tz text, appointment_id uuid, which integer, at text) FROM PUBLIC;

-- Name: FUNCTION problem_sms_json(m voxbook.sms_outbox, o voxbook.organizations, loc jsonb, patient_name text, refusal jsonb, resend voxbook.sms_outbox); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.problem_sms_json(m voxbook.sms_outbox, o voxbook.organizations, loc jsonb, patient_name text, refusal jsonb, resend voxbook.sms_outbox) FROM PUBLIC;

-- Name: FUNCTION provider_json(c voxbook.calendars, from_date date); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.provider_json(c voxbook.calendars, from_date date) FROM PUBLIC;

-- Name: FUNCTION queue_appointment_sms(org_id uuid, appointment_id uuid, kind text, send_after timestamp with time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.queue_appointment_sms(org_id uuid, appointment_id uuid, kind text, send_after timestamp with time zone) FROM PUBLIC;

-- Name: FUNCTION queue_sms(org_id uuid, kind text, recipient text, body text, appointment_id uuid, hold_id uuid, send_after timestamp with time zone, expires_at timestamp with time zone, redact_after_send boolean); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.queue_sms(org_id uuid, kind text, recipient text, body text, appointment_id uuid, hold_id uuid, send_after timestamp with time zone, expires_at timestamp with time zone, redact_after_send boolean) FROM PUBLIC;

-- Name: FUNCTION record_code_event(org_id uuid, kind text, h voxbook.holds, at timestamp with time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.record_code_event(org_id uuid, kind text, h voxbook.holds, at timestamp with time zone) FROM PUBLIC;

-- Name: FUNCTION record_sign_in(email_hash bytea, client_address text, succeeded boolean); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.record_sign_in(email_hash bytea, client_address text, succeeded boolean) FROM PUBLIC;

-- Name: FUNCTION record_sms_sent(msg_org_id uuid, msg_id uuid, sid text, sid_status text, sid_segments integer); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.record_sms_sent(msg_org_id uuid, msg_id uuid, sid text, sid_status text, sid_segments integer) FROM PUBLIC;

-- Name: FUNCTION redact_sms(body text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.redact_sms(body text) FROM PUBLIC;

-- Name: FUNCTION refusal(code text, error text, extra jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.refusal(code text, error text, extra jsonb) FROM PUBLIC;

-- Name: FUNCTION release_listed_holds(org_id uuid, bookings jsonb, reason text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.release_listed_holds(org_id uuid, bookings jsonb, reason text) FROM PUBLIC;

-- Name: FUNCTION request_callback(org_id uuid, kind text, reason text, phone text, name text, vapi_call_id text, appointment_id uuid); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.request_callback(org_id uuid, kind text, reason text, phone text, name text, vapi_call_id text, appointment_id uuid) FROM PUBLIC;

-- Name: FUNCTION require(value anyelement, what text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.require(value anyelement, what text) FROM PUBLIC;

-- Name: FUNCTION require_calendar(org_id uuid, calendar_id text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.require_calendar(org_id uuid, calendar_id text) FROM PUBLIC;

-- Name: FUNCTION require_calendar_connection(org_id uuid, calendar_id text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.require_calendar_connection(org_id uuid, calendar_id text) FROM PUBLIC;

-- Name: FUNCTION require_date(value date, what text, optional boolean); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.require_date(value date, what text, optional boolean) FROM PUBLIC;

-- Name: FUNCTION require_instant(value timestamp with time zone, what text, optional boolean); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.require_instant(value timestamp with time zone, what text, optional boolean) FROM PUBLIC;

-- Name: FUNCTION require_offered(c voxbook.calendars, s voxbook.services); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.require_offered(c voxbook.calendars, s voxbook.services) FROM PUBLIC;

-- Name: FUNCTION require_org(org_id uuid); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.require_org(org_id uuid) FROM PUBLIC;

-- Name: FUNCTION require_staff(org_id uuid, staff_id uuid); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.require_staff(org_id uuid, staff_id uuid) FROM PUBLIC;

-- Name: FUNCTION require_time_zone(tz text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.require_time_zone(tz text) FROM PUBLIC;

-- Name: FUNCTION require_tool_args(function_name text, args jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.require_tool_args(function_name text, args jsonb) FROM PUBLIC;

-- Name: FUNCTION require_tool_call_id(tool_call_id text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.require_tool_call_id(tool_call_id text) FROM PUBLIC;

-- Name: FUNCTION resend_refusal(m voxbook.sms_outbox, now_ts timestamp with time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.resend_refusal(m voxbook.sms_outbox, now_ts timestamp with time zone) FROM PUBLIC;

-- Name: FUNCTION resolve_locale(clinic_locale text, languages text[], requested text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.resolve_locale(clinic_locale text, languages text[], requested text) FROM PUBLIC;

-- Name: FUNCTION route_inbound_reply(orgs uuid[], phone text, preferred uuid, body text, message_sid text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.route_inbound_reply(orgs uuid[], phone text, preferred uuid, body text, message_sid text) FROM PUBLIC;

-- Name: FUNCTION route_sms_reply(org_id uuid, phone text, body text, message_sid text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.route_sms_reply(org_id uuid, phone text, body text, message_sid text) FROM PUBLIC;

-- Name: FUNCTION schedule_reminder(org_id uuid, appointment_id uuid); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.schedule_reminder(org_id uuid, appointment_id uuid) FROM PUBLIC;

-- Name: FUNCTION send_caller_code(o voxbook.organizations, call_id text, number text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.send_caller_code(o voxbook.organizations, call_id text, number text) FROM PUBLIC;

-- Name: FUNCTION service_json(s voxbook.services); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.service_json(s voxbook.services) FROM PUBLIC;

-- Name: FUNCTION set_call_locale(o voxbook.organizations, vapi_call_id text, requested text, source text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.set_call_locale(o voxbook.organizations, vapi_call_id text, requested text, source text) FROM PUBLIC;

-- Name: FUNCTION set_sms_consent(consent_org uuid, number text, opt_out boolean, why text, inbound_sid text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.set_sms_consent(consent_org uuid, number text, opt_out boolean, why text, inbound_sid text) FROM PUBLIC;

-- Name: FUNCTION settle_blocked_sms(m voxbook.sms_outbox, reason text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.settle_blocked_sms(m voxbook.sms_outbox, reason text) FROM PUBLIC;

-- Name: FUNCTION settled_body(body text, redact_after_send boolean); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.settled_body(body text, redact_after_send boolean) FROM PUBLIC;

-- Name: FUNCTION setup_calendar(org_id uuid, calendar_id text, lock boolean); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.setup_calendar(org_id uuid, calendar_id text, lock boolean) FROM PUBLIC;

-- Name: FUNCTION setup_invalid(state text, constraint_name text, table_name text, column_name text, message text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.setup_invalid(state text, constraint_name text, table_name text, column_name text, message text) FROM PUBLIC;

-- Name: FUNCTION sign_in_refusal(email_hash bytea, client_address text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.sign_in_refusal(email_hash bytea, client_address text) FROM PUBLIC;

-- Name: FUNCTION sign_in_window(); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.sign_in_window() FROM PUBLIC;

-- Name: FUNCTION slot_starts(o voxbook.organizations, cal_ids text[], slot_minutes integer[], spans interval[], first_day date, last_day date, at_instant timestamp with time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.slot_starts(o voxbook.organizations, cal_ids text[], slot_minutes integer[], spans interval[], first_day date, last_day date, at_instant timestamp with time zone) FROM PUBLIC;

-- Name: FUNCTION sms_block_reason(m voxbook.sms_outbox, now_ts timestamp with time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.sms_block_reason(m voxbook.sms_outbox, now_ts timestamp with time zone) FROM PUBLIC;

-- Name: FUNCTION sms_error_text(error_code text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.sms_error_text(error_code text) FROM PUBLIC;

-- Name: FUNCTION sms_parts(body text, OUT encoding text, OUT segments integer); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.sms_parts(body text, OUT encoding text, OUT segments integer) FROM PUBLIC;

-- Name: FUNCTION sms_problem_reason(m voxbook.sms_outbox); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.sms_problem_reason(m voxbook.sms_outbox) FROM PUBLIC;

-- Name: FUNCTION sms_reply_org(orgs uuid[], phone text, preferred uuid); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.sms_reply_org(orgs uuid[], phone text, preferred uuid) FROM PUBLIC;

-- Name: FUNCTION sms_reply_word(body text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.sms_reply_word(body text) FROM PUBLIC;

-- Name: FUNCTION sms_retry_deadline(m voxbook.sms_outbox); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.sms_retry_deadline(m voxbook.sms_outbox) FROM PUBLIC;

-- Name: FUNCTION sms_status_rank(status text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.sms_status_rank(status text) FROM PUBLIC;

-- Name: FUNCTION sms_useful_for(kind text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.sms_useful_for(kind text) FROM PUBLIC;

-- Name: FUNCTION spoken_line(function_name text, result jsonb, language text, time_zone text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.spoken_line(function_name text, result jsonb, language text, time_zone text) FROM PUBLIC;

-- Name: FUNCTION spoken_offer(result jsonb, language text, tz text, loc jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.spoken_offer(result jsonb, language text, tz text, loc jsonb) FROM PUBLIC;

-- Name: FUNCTION spoken_time(ts timestamp with time zone, tz text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.spoken_time(ts timestamp with time zone, tz text) FROM PUBLIC;

-- Name: FUNCTION spoken_time(ts timestamp with time zone, tz text, loc jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.spoken_time(ts timestamp with time zone, tz text, loc jsonb) FROM PUBLIC;

-- Name: FUNCTION spoken_time_of(lt timestamp without time zone, loc jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.spoken_time_of(lt timestamp without time zone, loc jsonb) FROM PUBLIC;

-- Name: FUNCTION spread(items text[], n integer); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.spread(items text[], n integer) FROM PUBLIC;

-- Name: FUNCTION staff_email(email text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.staff_email(email text) FROM PUBLIC;

-- Name: FUNCTION staff_json(s voxbook.staff_accounts); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.staff_json(s voxbook.staff_accounts) FROM PUBLIC;

-- Name: FUNCTION staff_role(role text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.staff_role(role text) FROM PUBLIC;

-- Name: FUNCTION store_clinic(o voxbook.organizations, old voxbook.organizations); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.store_clinic(o voxbook.organizations, old voxbook.organizations) FROM PUBLIC;

-- Name: FUNCTION template(key text, tag text, base text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.template(key text, tag text, base text) FROM PUBLIC;

-- Name: FUNCTION token_hash(token text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.token_hash(token text) FROM PUBLIC;

-- Name: FUNCTION tool_functions(); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.tool_functions() FROM PUBLIC;

-- Name: FUNCTION tool_response(o voxbook.organizations, function_name text, args jsonb, call_id text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.tool_response(o voxbook.organizations, function_name text, args jsonb, call_id text) FROM PUBLIC;

-- Name: FUNCTION twilio_status_rank(status text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.twilio_status_rank(status text) FROM PUBLIC;

-- Name: FUNCTION twilio_status_to_ours(status text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.twilio_status_to_ours(status text) FROM PUBLIC;

-- Name: FUNCTION utc_iso(ts timestamp with time zone); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.utc_iso(ts timestamp with time zone) FROM PUBLIC;

-- Name: FUNCTION vapi_call_key(vapi_call_id text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.vapi_call_key(vapi_call_id text) FROM PUBLIC;

-- Name: FUNCTION waitlist_accept_word(body text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.waitlist_accept_word(body text) FROM PUBLIC;

-- Name: FUNCTION waitlist_reply(org_id uuid, phone text, body text, message_sid text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.waitlist_reply(org_id uuid, phone text, body text, message_sid text) FROM PUBLIC;

-- Name: FUNCTION waitlist_sweep(org_id uuid, max_offers integer, reply_minutes integer); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.waitlist_sweep(org_id uuid, max_offers integer, reply_minutes integer) FROM PUBLIC;

-- Name: FUNCTION waitlist_text(key text, o voxbook.organizations, tag text, starts timestamp with time zone, provider text, minutes integer); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.waitlist_text(key text, o voxbook.organizations, tag text, starts timestamp with time zone, provider text, minutes integer) FROM PUBLIC;

-- Name: FUNCTION week_json(org_id uuid, calendar_id text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.week_json(org_id uuid, calendar_id text) FROM PUBLIC;

-- Name: FUNCTION weekday_number(word text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.weekday_number(word text) FROM PUBLIC;

-- Name: FUNCTION when_parts(ts timestamp with time zone, tz text); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.when_parts(ts timestamp with time zone, tz text) FROM PUBLIC;

-- Name: FUNCTION when_parts(ts timestamp with time zone, tz text, loc jsonb); Type: ACL; Schema: internal; Owner: -

REVOKE ALL ON FUNCTION internal.when_parts(ts timestamp with time zone, tz text, loc jsonb) FROM PUBLIC;

-- Name: PROCEDURE distribute_if_citus(IN tbl regclass); Type: ACL; Schema: voxbook; Owner: -

REVOKE ALL ON PROCEDURE voxbook.distribute_if_citus(IN tbl regclass) FROM PUBLIC;

-- Name: FUNCTION protect_referenced_by_holds(); Type: ACL; Schema: voxbook; Owner: -

REVOKE ALL ON FUNCTION voxbook.protect_referenced_by_holds() FROM PUBLIC;
