-- Two-way calendar sync over CalDAV (issue 17; tables in db/migrations/0032_calendar_sync.sql). The database
-- decides; the sync worker (workers/calendar_sync.py) talks to the CalDAV servers and reports:
--   api.connect_calendar / api.disconnect_calendar / api.list_calendar_connections   staff, the CLI
--   api.claim_calendar_syncs                 the worker takes due connections (lease, SKIP LOCKED)
--   api.claim_calendar_sync                  one connection now (sync now), same lease
--   api.calendar_push_plan / api.record_calendar_push   out: appointments -> events
--   api.apply_calendar_import                in: busy time -> blocked_periods (calendar lock, as block_time)
--   api.finish_calendar_sync                 health and the next attempt (backoff per calendar)
--   api.list_calendar_conflicts              busy time imported over a confirmed appointment, for staff
-- The CalDAV password is passed and stored as a Fernet ciphertext only (VOXBOOK_SECRETS_KEY, never in the
-- database); no function here decrypts it, none takes a plaintext, no error message quotes it.

-- A connection as staff see it: health, never the ciphertext.
CREATE FUNCTION internal.calendar_connection_json(cc voxbook.calendar_connections, tz text, now_ts timestamptz)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
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

-- The title of an appointment's event: the connection's template with {service}, {provider} and {patient}
-- (none / first name / full name, the clinic's policy) filled in, on one line; never a phone number. A template
-- whose {patient} is left empty loses the separator before it ("Cleaning - " becomes "Cleaning").
CREATE FUNCTION internal.calendar_event_title(template text, policy text, service_name text, provider_name text,
                                              patient text)
    RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT left(coalesce(nullif(btrim(regexp_replace(
               replace(replace(replace(template, '{service}', coalesce(service_name, 'Appointment')),
                               '{provider}', coalesce(provider_name, '')),
                       '{patient}', coalesce(CASE WHEN policy = 'full' THEN internal.one_line(patient)
                                                  WHEN policy = 'first' THEN split_part(internal.one_line(patient), ' ', 1)
                                             END, '')),
               '[\s:,;(–—-]+$|^[\s:,;)–—-]+', '', 'g')), ''), 'Appointment'), 400)
$$;

-- A clinic's connection of one provider, VB404 when the clinic or provider has none (another clinic's too).
CREATE FUNCTION internal.require_calendar_connection(org_id uuid, calendar_id text) RETURNS voxbook.calendar_connections
    LANGUAGE plpgsql STABLE AS $$
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

-- The connection the worker reports on, by its id (the clinic's only: VB404 otherwise).
CREATE FUNCTION internal.connection_by_id(org_id uuid, connection_id uuid, lock boolean) RETURNS voxbook.calendar_connections
    LANGUAGE plpgsql AS $$
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


CREATE FUNCTION api.connect_calendar(org_id uuid, calendar_id text, url text, username text,
                                     secret_ciphertext text, key_id text, event_title text DEFAULT NULL,
                                     patient_name text DEFAULT NULL, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
$$;
COMMENT ON FUNCTION api.connect_calendar(uuid, text, text, text, text, text, text, text, text) IS
$$Connects a provider to a CalDAV calendar (one per provider; again = replaces the credentials, title and
policy). The sync worker then pushes every confirmed appointment of the provider there as an event and imports
the calendar's busy time as blocks (availability and claims honour it). The password or app password is passed
encrypted only (secret_ciphertext: Fernet with VOXBOOK_SECRETS_KEY, which the database never sees; key_id names
the key): use voxbook calendar connect, which also tests the connection first (bad credentials, not a calendar,
no write permission, unreachable). Another url or username than before drops what was imported from the old
calendar ("busy_removed") and pushes to the new one afresh. event_title: a template with {service}, {provider}
and {patient} (default '{service}'); patient_name: none (default), first or full. Audited (never the secret).
Returns {"success": true, "org_id", "created", "busy_removed", "connection": <as api.list_calendar_connections>}.
Errors: VB404 unknown org or calendar; VB400 a missing argument, a url that is not http(s) or has user:password@ in
it, a malformed
username, a ciphertext that is not a Fernet token (a plaintext password is refused, not stored), a malformed
key_id, an event_title over 200 characters or with an unknown {placeholder}, a patient_name policy not
none/first/full.
Example: SELECT api.connect_calendar('a0000000-0000-0000-0000-000000000001', 'cal-smith',
'https://cloud.example.com/remote.php/dav/calendars/smith/personal/', 'smith', 'gAAAAAB...', '3f2a9c0d1e4b');$$;


CREATE FUNCTION api.disconnect_calendar(org_id uuid, calendar_id text, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.disconnect_calendar(uuid, text, text) IS
$$Disconnects a provider's CalDAV calendar: its imported busy time is removed (those times are bookable again)
and nothing more is pushed. The events already written there stay (voxbook no longer holds the credentials to
remove them). Idempotent. Audited.
Returns {"success": true, "org_id", "calendar_id", "disconnected" (false: it had none), "busy_removed"}.
Errors: VB404 unknown org or calendar.
Example: SELECT api.disconnect_calendar('a0000000-0000-0000-0000-000000000001', 'cal-smith');$$;


CREATE FUNCTION api.list_calendar_connections(org_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.list_calendar_connections(uuid) IS
$$A clinic's connected CalDAV calendars with their health, for staff (never the secret).
Returns {"success": true, "org_id", "connections": [{"connection_id", "calendar_id", "url", "username", "key_id",
"event_title", "patient_name", "healthy", "state" (pending: not synced yet | ok | failing), "last_success_at",
"last_attempt_at", "last_error_class" (bad_credentials | not_a_calendar | no_write_permission | unreachable |
server_error | secrets_key | invalid_data | null), "last_error" (a reason for people), "consecutive_failures",
"next_attempt_at", "incremental" (true: the server's sync-token; false: ETag comparison; null: not synced),
"events_pushed", "busy_imported", "connected_by", "connected_at", "local_last_success"}]}.
Errors: VB404 unknown org.
Example: SELECT api.list_calendar_connections('a0000000-0000-0000-0000-000000000001');$$;



CREATE FUNCTION api.get_calendar_connection(org_id uuid, calendar_id text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    cc voxbook.calendar_connections := internal.require_calendar_connection(o.id, calendar_id);
BEGIN
    RETURN jsonb_build_object('success', true, 'org_id', o.id,
                              'connection', internal.calendar_connection_json(cc, o.time_zone, internal.clock())
                                            || jsonb_build_object('secret_ciphertext', cc.secret_ciphertext));
END
$$;
COMMENT ON FUNCTION api.get_calendar_connection(uuid, text) IS
$$One provider's connected calendar with the password's ciphertext, for `voxbook calendar test` (which decrypts it
in its own memory with VOXBOOK_SECRETS_KEY and tries the calendar) and the sync worker's tooling.
Returns {"success": true, "org_id", "connection": <as api.list_calendar_connections> + "secret_ciphertext"}.
Errors: VB404 unknown org, or the provider has no connected calendar (another clinic's too).
Example: SELECT api.get_calendar_connection('a0000000-0000-0000-0000-000000000001', 'cal-smith');$$;

CREATE FUNCTION api.calendar_sync_problems(max_rows int DEFAULT 100)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.calendar_sync_problems(int) IS
$$The CalDAV connections that fail, across clinics (voxbook doctor): those whose last sync failed, and those never
synced 5 minutes after they were connected (is a sync worker running?). At most max_rows, by clinic.
Returns {"success": true, "connections" (how many in all), "failing": [{"org_id", "calendar_id", "last_error_class",
"last_error", "consecutive_failures", "last_success_at"}]}. Errors: VB400 max_rows outside 1-10000.
Example: SELECT api.calendar_sync_problems();$$;


-- A claimed connection as the worker needs it (api.claim_calendar_syncs, api.claim_calendar_sync).
CREATE FUNCTION internal.calendar_claim_json(cc voxbook.calendar_connections, o voxbook.organizations,
                                             c voxbook.calendars, lease timestamptz, now_ts timestamptz)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
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


CREATE FUNCTION api.claim_calendar_syncs(worker_id text, max_rows int DEFAULT 10, lease_seconds double precision DEFAULT 120,
                                         due_before timestamptz DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.claim_calendar_syncs(text, int, double precision, timestamptz) IS
$$For the calendar sync worker, across clinics (not delegated): claims up to max_rows connections due for a sync
(next_attempt_at passed, no live lease) with FOR UPDATE SKIP LOCKED, each held by worker_id for lease_seconds: two
workers never sync one calendar at once. due_before: only connections due by then (a worker's pass passes its first
claim's "claimed_at", so that a calendar synced in the pass and due again at once waits for the next).
Returns {"success": true, "claimed_at", "connections": [{"org_id", "connection_id",
"calendar_id", "provider", "url", "username", "secret_ciphertext" (decrypted only in the worker's memory),
"key_id", "sync_token", "ctag", "time_zone", "window_starts", "window_ends" (busy time is imported over this window),
"full" (read the whole calendar: first sync, or a day since the last full read), "lease_until"}]}.
Errors: VB400 worker_id missing or over 200 characters, max_rows outside 1-1000, lease_seconds outside 1-86400,
due_before out of range.
Example: SELECT api.claim_calendar_syncs('host:1234', 10, 120);$$;


CREATE FUNCTION api.claim_calendar_sync(org_id uuid, connection_id uuid, worker_id text,
                                        lease_seconds double precision DEFAULT 120)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.claim_calendar_sync(uuid, uuid, text, double precision) IS
$$Claims one connection now, due or not (a "sync now", one clinic's worker), as api.claim_calendar_syncs claims
due ones: held by worker_id for lease_seconds. Refused while another worker's lease runs.
Returns {"success": true, "connection": <as in api.claim_calendar_syncs>} or {"success": false, "code": "busy"}.
Errors: VB404 unknown org or connection; VB400 worker_id missing or over 200 characters, lease_seconds outside 1-86400.
Example: SELECT api.claim_calendar_sync(:org, :conn, 'host:1234');$$;


CREATE FUNCTION api.calendar_push_plan(org_id uuid, connection_id uuid, max_rows int DEFAULT 200)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.calendar_push_plan(uuid, uuid, int) IS
$$For the calendar sync worker: what to write to a connection's calendar now, by comparing the provider's
confirmed appointments that have not ended with what was pushed (voxbook.calendar_pushes). Every path that books,
moves or cancels is seen, whatever function made it. "upserts": a new, moved or renamed appointment's event
(uid "<appointment_id>@voxbook", href and etag of the event written before or null, the times in UTC, the title
from the connection's template and patient-name policy; never a phone number); "deletes": the events of
appointments cancelled or moved to another provider. At most max_rows of each, earliest first.
Returns {"success": true, "upserts": [{"appointment_id", "uid", "href", "etag", "starts_at", "ends_at",
"title"}], "deletes": [{"appointment_id", "href", "etag"}]}.
Errors: VB404 unknown org or connection (another clinic's too); VB400 max_rows outside 1-10000.
Example: SELECT api.calendar_push_plan('a0000000-0000-0000-0000-000000000001', '5b0d...');$$;


CREATE FUNCTION api.record_calendar_push(org_id uuid, connection_id uuid, appointment_id uuid, href text,
                                         etag text DEFAULT NULL, starts_at timestamptz DEFAULT NULL,
                                         ends_at timestamptz DEFAULT NULL, title text DEFAULT NULL,
                                         deleted boolean DEFAULT false, worker_id text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.record_calendar_push(uuid, uuid, uuid, text, text, timestamptz, timestamptz, text, boolean, text) IS
$$For the calendar sync worker: records that an appointment's event was written to the connection's calendar
(href, the ETag the server returned, the times and title written) or, with deleted => true, removed there.
Idempotent (a retry records the same). worker_id (the worker passes it): recorded only while that worker holds the
connection's lease, else {"success": false, "code": "not_held"} and nothing changes (a worker that outlived its
lease never overwrites the record of the one that took over).
Returns {"success": true, "recorded": "written" | "deleted"} or {"success": false, "code": "not_held"}.
Errors: VB404 unknown org, connection or appointment (another clinic's too); VB400 a missing argument, times out
of range or inverted, href/etag/title too long.
Example: SELECT api.record_calendar_push(:org, :conn, :appt, 'https://dav.example.com/cal/voxbook-<id>.ics', '"e1"',
'2026-12-01T15:00:00Z', '2026-12-01T15:30:00Z', 'Cleaning');$$;


CREATE FUNCTION api.apply_calendar_import(org_id uuid, connection_id uuid, worker_id text, changed jsonb,
                                          deleted_hrefs jsonb DEFAULT '[]', full_read boolean DEFAULT false,
                                          sync_token text DEFAULT NULL, ctag text DEFAULT NULL,
                                          expanded_until timestamptz DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.apply_calendar_import(uuid, uuid, text, jsonb, jsonb, boolean, text, text, timestamptz) IS
$$For the calendar sync worker: applies what it read from a connection's calendar as blocks of the provider's time
(voxbook.blocked_periods, source 'caldav'), so availability and claims honour it exactly like api.block_time.
changed: the events added or changed, each {"href", "etag", "uid", "occurrences": [{"starts_at", "ends_at",
"recurrence_id"}]} (busy occurrences only, recurring events expanded over the window, all-day events in the
clinic's zone, UTC instants): each replaces what its href had; deleted_hrefs: events removed there; full_read:
changed is the whole calendar (everything else imported before goes). sync_token, ctag and expanded_until are
stored for the next round. Takes the provider's calendar lock first, as block_time and every claim do: of an
import and a claim of the same time one waits for the other. Live holds on new busy time are released; confirmed
appointments stay booked and are returned in "conflicts" (and listed by api.list_calendar_conflicts).
Occurrences that are no usable time range (inverted, out of range) are skipped and counted.
Returns {"success": true, "inserted", "removed", "skipped", "busy_imported" (the connection's blocks now),
"released_holds", "conflicts": [{"appointment_id", "starts_at", "ends_at"}]}, or {"success": false, "code":
"not_held"} when this worker's claim has passed to another (nothing changed).
Errors: VB404 unknown org or connection; VB400 worker_id missing, changed/deleted_hrefs not arrays or over 20000,
over 50000 occurrences in changed or imported for the connection in all ("too much busy time": nothing changes),
a malformed event, sync_token/ctag too long, expanded_until out of range.
Example: SELECT api.apply_calendar_import(:org, :conn, 'host:1',
'[{"href": "/cal/a.ics", "etag": "\"1\"", "uid": "a", "occurrences": [{"starts_at": "2026-12-01T15:00:00Z", "ends_at": "2026-12-01T16:00:00Z"}]}]');$$;


CREATE FUNCTION api.finish_calendar_sync(org_id uuid, connection_id uuid, worker_id text, error_class text DEFAULT NULL,
                                         error text DEFAULT NULL, next_seconds double precision DEFAULT 10,
                                         retry_base_seconds double precision DEFAULT 15)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.finish_calendar_sync(uuid, uuid, text, text, text, double precision, double precision) IS
$$For the calendar sync worker: ends its claim of a connection and records the round's health. Success (no
error_class): the next sync in next_seconds. Failure (error_class bad_credentials | not_a_calendar |
no_write_permission | unreachable | server_error | secrets_key | invalid_data, error a reason for people, never a
secret): retried after retry_base_seconds doubled per consecutive failure, at most 30 minutes, +-20 % jitter;
the other calendars are not affected. Returns {"success": true, "consecutive_failures", "next_attempt_at"} or
{"success": false, "code": "not_held"} (another worker holds it now; nothing changed).
Errors: VB404 unknown org or connection; VB400 worker_id missing, an unknown error_class, next_seconds or
retry_base_seconds out of range.
Example: SELECT api.finish_calendar_sync(:org, :conn, 'host:1', 'unreachable', 'connection refused');$$;


CREATE FUNCTION api.release_calendar_claims(worker_id text)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.release_calendar_claims(text) IS
$$For the calendar sync worker stopping: gives back the connections it holds (another worker may sync them at
once instead of after the lease). Across clinics (not delegated). Returns {"success": true, "released"}.
Errors: VB400 worker_id missing.
Example: SELECT api.release_calendar_claims('host:1234');$$;


CREATE FUNCTION api.list_calendar_conflicts(org_id uuid, calendar_id text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.list_calendar_conflicts(uuid, text) IS
$$Confirmed appointments that busy time in the provider's own calendar now overlaps (an event added there over a
booking): nothing was cancelled, the provider stays booked, staff decide (move the appointment, or have the
provider move their event). With calendar_id, that provider's only. Upcoming ones (not ended), by time, at most
1000. Returns {"success": true, "conflicts": [{"appointment_id", "calendar_id", "provider", "patient_name",
"starts_at", "ends_at", "local_time", "block_id", "busy_starts_at", "busy_ends_at", "detected_at"}]}.
Errors: VB404 unknown org or calendar.
Example: SELECT api.list_calendar_conflicts('a0000000-0000-0000-0000-000000000001');$$;
