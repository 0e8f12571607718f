-- The clinic dashboard (api/dashboard.py) and provider calendar feeds: every figure the page shows
-- comes from these functions, so a DBA sees in psql exactly what the owner sees in the browser.
--
-- Tokens (browser sessions, feed subscriptions, staff invites) are random secrets shown once and
-- stored as sha256 only. A presented token is found by equality on its sha256: the comparison that
-- could leak timing is on a hash of the secret, never on the secret itself, so it needs no
-- constant-time compare (an attacker can't steer the hash's prefix towards a stored one).

CREATE FUNCTION internal.token_hash(token text) RETURNS bytea
    LANGUAGE sql STABLE AS $$
    SELECT sha256(convert_to(token, 'UTF8'))
$$;

-- 'vbd_' + 48 hex digits (192 random bits): long enough to be unguessable, plain enough to paste.
CREATE FUNCTION internal.new_secret(prefix text) RETURNS text
    LANGUAGE sql VOLATILE AS $$
    SELECT prefix || encode(gen_random_bytes(24), 'hex')
$$;

-- Screens are seen over shoulders and in screenshots: numbers are shown masked unless revealed.
CREATE FUNCTION internal.mask_phone(e164 text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN e164 IS NULL THEN NULL
                WHEN e164 ~ '^\+1[0-9]{10}$' THEN '(***) ***-' || right(e164, 4)
                ELSE '+' || repeat('*', greatest(length(e164) - 5, 1)) || right(e164, 4) END
$$;

CREATE FUNCTION internal.local_clock(ts timestamptz, tz text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT to_char(ts AT TIME ZONE tz, 'FMHH12:MI AM')
$$;

-- The same as the clinic's locale writes a clock time with its minutes ('9:00 AM' en-US, '09:00' en-GB): the
-- locale's hm/Hm form (its spoken_time_template, 17_locales.sql). loc: internal.field_locale, fetched once.
CREATE FUNCTION internal.local_clock(ts timestamptz, tz text, loc jsonb) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT internal.fill_time(loc->>'spoken_time_template', ts AT TIME ZONE tz, loc)
$$;

-- One call as a lead: what the list, the live stream and the detail view share. No full phone number.
-- PL/pgSQL: no SQL-language function reads a table (db/README.md, "Writing functions that run on Citus too").
CREATE FUNCTION internal.dashboard_call_json(for_org uuid, for_call uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
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


-- == Logins =====================================================================================

CREATE FUNCTION api.issue_dashboard_token(org_id uuid, label text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.issue_dashboard_token(uuid, text) IS
$$Creates a clinic dashboard token and returns it once (only its sha256 is stored):
{"success": true, "token_id", "token", "org_id", "clinic", "message"}. Such tokens no longer sign in to the
dashboard (issue 16: every action is done in a person's name): people sign in with staff accounts
(api.invite_staff, 71_staff_accounts.sql; CLI: voxbook staff invite).
Errors: VB404 unknown org; VB400 label over 200 characters.
Example: SELECT api.issue_dashboard_token('a0000000-0000-0000-0000-000000000001', 'front desk');$$;


CREATE FUNCTION api.revoke_dashboard_token(org_id uuid, token_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.revoke_dashboard_token(uuid, uuid) IS
$$Revokes a dashboard token and ends the sessions opened with it. Idempotent.
Returns {"success": true, "token_id", "revoked": true}. Errors: VB404 unknown org or token.$$;


-- Sign-in (api.dashboard_login_accounts, api.dashboard_login) is in 71_staff_accounts.sql: a session is a staff
-- member's. The clinic tokens above no longer sign in (no person behind them to audit).

CREATE FUNCTION api.dashboard_session(session text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.dashboard_session(text) IS
$$The staff member and clinic a dashboard session belongs to: {"success": true, "org_id", "clinic",
"time_zone", "locale", "phone", "staff_id", "staff_name", "staff_email", "role" (owner | front_desk),
"expires_at"} or {"success": false, "code": "invalid_session", "error"} (unknown, expired, logged out, or
the account deactivated). Every dashboard request starts here; everything after is scoped to org_id.$$;


CREATE FUNCTION api.dashboard_logout(session text)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    n int;
BEGIN
    DELETE FROM voxbook.dashboard_sessions AS s
     WHERE s.session_hash = internal.token_hash(coalesce(dashboard_logout.session, ''));
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN jsonb_build_object('success', true, 'ended', n > 0);
END
$$;
COMMENT ON FUNCTION api.dashboard_logout(text) IS
$$Ends a dashboard session. Idempotent: {"success": true, "ended": true|false}.$$;


-- == What the page shows ========================================================================

CREATE FUNCTION api.dashboard_hot_leads(org_id uuid, max_leads int DEFAULT 50)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.dashboard_hot_leads(uuid, int) IS
$$A clinic's hot leads, newest first (at most max_leads, 1-500):
{"success": true, "org_id", "threshold", "leads": [{"alert_id", "call_id" (Vapi's call id), "name",
"phone_masked", "has_phone", "service", "service_name", "score", "reasons": [{"factor", "points",
"detail"}], "hot", "booked", "appointment": {"appointment_id", "status", "provider", "local_time"} | null,
"summary", "duration_seconds", "created_at" (UTC), "local_time", "acknowledged"}]}.
Phone numbers are masked: api.dashboard_reveal_phone gives one in full. Errors: VB404 unknown org;
VB400 max_leads out of range.
Example: SELECT api.dashboard_hot_leads('a0000000-0000-0000-0000-000000000001', 10);$$;


CREATE FUNCTION api.dashboard_hot_lead(org_id uuid, alert_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.dashboard_hot_lead(uuid, uuid) IS
$$One hot lead by alert id, in the shape of api.dashboard_hot_leads' items plus "success": what the
dashboard pushes to browsers when NOTIFY voxbook_hot_lead ({"org_id", "alert_id"}) arrives.
Errors: VB404 unknown org or alert (an alert of another clinic is unknown).$$;


CREATE FUNCTION api.dashboard_lead(org_id uuid, call_id text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.dashboard_lead(uuid, text) IS
$$One call, by call_id (Vapi's call.id), with everything the lead view shows: the fields of
api.dashboard_hot_leads' items plus "transcript", "ended_reason", "started_at", "ended_at", "local_started"
and "alert_sms_status" (the owner's hot-lead SMS). Works for any recorded call of the clinic, hot or not. Phone masked.
Errors: VB404 unknown org or call; VB400 missing call_id.
Example: SELECT api.dashboard_lead('a0000000-0000-0000-0000-000000000001', 'call-123');$$;


CREATE FUNCTION api.dashboard_reveal_phone(org_id uuid, call_id text DEFAULT NULL, appointment_id uuid DEFAULT NULL,
                                hold_id uuid DEFAULT NULL, callback_request_id uuid DEFAULT NULL,
                                inbox_id uuid DEFAULT NULL, waitlist_id uuid DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.dashboard_reveal_phone(uuid, text, uuid, uuid, uuid, uuid, uuid) IS
$$The full number behind a masked one on the dashboard, for exactly one of call_id (Vapi's), appointment_id,
hold_id, callback_request_id, inbox_id (an SMS reply) or waitlist_id (the queues page, api.dashboard_queues):
{"success": true, "phone" (E.164), "display"}. Errors: VB404 unknown org or row (another clinic's included), or no
number; VB400 not exactly one id.
Example: SELECT api.dashboard_reveal_phone('a0000000-0000-0000-0000-000000000001', waitlist_id => '<waitlist_id>');$$;


-- One provider's day: appointments (confirmed or cancelled) whose time starts that local day, and the
-- live holds of that day. DST-correct: the day's bounds are local midnights converted to instants.
CREATE FUNCTION internal.dashboard_day_entries(o voxbook.organizations, for_calendar text, for_day date,
                                               now_ts timestamptz)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
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


-- One provider's (or, calendar_id NULL, the clinic's own) blocked time overlapping a local day, clipped to the day
-- for the local clock times: {"block_id", "calendar_id" (null: a closure of the whole clinic), "reason",
-- "starts_at", "ends_at" (UTC, whole block), "local_start", "local_end" (within the day), "whole_day"}.
CREATE FUNCTION internal.dashboard_day_blocks(o voxbook.organizations, for_calendar text, for_day date, loc jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
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


CREATE FUNCTION api.dashboard_schedule(org_id uuid, from_date date DEFAULT NULL, days int DEFAULT 2,
                                       calendar_id text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
$$;
COMMENT ON FUNCTION api.dashboard_schedule(uuid, date, int, text) IS
$$A clinic's schedule per provider for `days` local days (1-31, default 2: today and tomorrow; 7 from a Monday:
its week) from from_date (default: today in the clinic's time zone), every active provider or only calendar_id.
Entries are the appointments whose time starts that day (status confirmed or cancelled) and live holds (status
held), in time order; each provider's day has its working hours (exceptions applied), its blocked time and the
clinic's closures, and "closed" when it has no hours or a block covers the whole day:
{"success": true, "org_id", "time_zone", "locale", "today", "from_date", "calendar_id", "server_time",
"days": [{"date", "label", "local_label" (as the clinic's locale writes a day), "is_today", "closed" (a closure of
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
Example: SELECT api.dashboard_schedule('a0000000-0000-0000-0000-000000000001');
         SELECT api.dashboard_schedule(:org, '2026-12-07', 7, calendar_id => 'cal-smith');   -- a provider's week$$;


CREATE FUNCTION api.dashboard_live_holds(org_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.dashboard_live_holds(uuid) IS
$$Holds the phone assistant has on the clinic's calendars right now (live: status held, not expired),
soonest to expire first: {"success": true, "org_id", "server_time", "holds": [{"hold_id", "calendar_id",
"provider", "starts_at", "local_time", "expires_at", "seconds_left", "patient_name", "phone_masked",
"service", "service_name", "code_sent", "code_attempts", "on_call"}]}. Errors: VB404 unknown org.
Example: SELECT api.dashboard_live_holds('a0000000-0000-0000-0000-000000000001');$$;


-- == Calendar feeds =============================================================================

CREATE FUNCTION api.issue_calendar_feed_token(org_id uuid, calendar_id text)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.issue_calendar_feed_token(uuid, text) IS
$$Creates a subscription token for one provider's calendar feed and returns it once:
{"success": true, "token_id", "token", "calendar_id", "provider", "path" ("/calendars/<id>.ics?token=..."),
"message"}. Prefix "path" with the server's public URL and subscribe to it in Google Calendar or Outlook.
CLI: voxbook calendar-feed-token --org <org> --calendar <id>. Errors: VB404 unknown org or calendar.$$;


CREATE FUNCTION api.revoke_calendar_feed_tokens(org_id uuid, calendar_id text)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.revoke_calendar_feed_tokens(uuid, text) IS
$$Revokes every feed token of a calendar (its subscribers get 404 from then on):
{"success": true, "calendar_id", "revoked": <count>}. Errors: VB404 unknown org or calendar.$$;


CREATE FUNCTION api.calendar_feed(calendar_id text, token text DEFAULT NULL, org_id uuid DEFAULT NULL,
                       past_days int DEFAULT 90)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.calendar_feed(text, text, uuid, int) IS
$$The confirmed appointments of one provider (cancelled ones are left out; the last past_days days and
everything ahead) for GET /calendars/{calendar_id}.ics, which renders them as iCalendar (RFC 5545).
Authorised by a feed token of that very calendar (api.issue_calendar_feed_token), or by org_id in psql.
Returns {"success": true, "org_id", "clinic", "clinic_phone", "calendar_id", "provider", "time_zone",
"generated_at", "events": [{"uid" (stable: the appointment's id), "appointment_id", "starts_at",
"ends_at", "created_at", "updated_at" (UTC), "summary", "description", "location"}]} or
{"success": false, "code": "invalid_token", "error"}. No phone numbers: feeds end up in third-party apps.
Errors: VB404 unknown org or calendar; VB400 neither token nor org_id, past_days out of range.
Example: SELECT api.calendar_feed('cal-smith', org_id => 'a0000000-0000-0000-0000-000000000001');$$;
