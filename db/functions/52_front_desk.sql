-- A human when needed (issue 15): the clinic's front desk (organizations.front_desk_phone) and callback requests
-- (voxbook.callback_requests, migration 0027).
-- * The assistant's transfer_to_front_desk tool is Vapi's native transferCall without destinations: Vapi asks
--   the server for one (transfer-destination-request) and api.front_desk_transfer answers -- the clinic's
--   front-desk number while it is open, else a callback request and the line saying so.
-- * A transfer Vapi reports as failed (endedReason of the status-update / end-of-call-report) becomes a callback
--   request: api.record_transfer_failure.
-- * Every tool result whose spoken line promises a person (spoken.rate_limited, spoken.codes_unavailable,
--   spoken.send_otp_code.resend_limit / opted_out, spoken.within_notice) records one too
--   (internal.callback_for_refusal, called by internal.tool_response in 55_tool_calls.sql).
-- * internal.request_callback is the one writer: once per (call, kind), one SMS to the front desk, in the
--   clinic's language. Other features call it (SMS replies, the waitlist).

-- The number a callback request is texted to: the front desk, else the owner's hot-lead phone (NULL: none).
CREATE FUNCTION internal.front_desk_number(o voxbook.organizations) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(o.front_desk_phone, o.hot_lead_alert_phone)::text $$;

-- Whether the clinic is open at a moment: some active provider works then (that date's hours exception, else
-- its weekday's hours, on the clinic's local clock) and no clinic-wide closure (blocked_periods without a
-- calendar) covers it.
CREATE FUNCTION internal.clinic_open(o voxbook.organizations, at_ts timestamptz) RETURNS boolean
    LANGUAGE plpgsql STABLE AS $$
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

-- Whether Vapi's endedReason says a transfer was tried and failed (Vapi's "call ended reason" codes:
-- call.in-progress.error-transfer-failed, the warm-transfer errors, an operator busy); assistant-forwarded-call
-- is a transfer that worked.
CREATE FUNCTION internal.is_failed_transfer(ended_reason text) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(lower(ended_reason) NOT LIKE '%forwarded%'
                    AND (lower(ended_reason) LIKE '%transfer-failed%'
                         OR lower(ended_reason) LIKE '%error-warm-transfer%'
                         OR lower(ended_reason) LIKE '%forwarding.operator-busy%'), false)
$$;

CREATE FUNCTION internal.callback_kinds() RETURNS text[]
    LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['transfer_failed', 'after_hours', 'asked', 'reschedule_request', 'sms_reply', 'failure']
$$;

CREATE FUNCTION internal.callback_json(r voxbook.callback_requests, o voxbook.organizations) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
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

-- A person at the clinic should call this caller back. Idempotent per (call, kind): the second request of a
-- call and kind returns the first ({"duplicate": true}) and texts nothing. The first texts the front desk
-- (front_desk_phone, else hot_lead_alert_phone) once, in the clinic's language: who, the number, why.
-- phone: an E.164 number or NULL (anything else is dropped: the request still stands). appointment_id: the
-- clinic's (VB404 otherwise). reason: 1-1000 characters, for staff; never spoken.
CREATE FUNCTION internal.request_callback(org_id uuid, kind text, reason text, phone text DEFAULT NULL,
                                          name text DEFAULT NULL, vapi_call_id text DEFAULT NULL,
                                          appointment_id uuid DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql AS $$
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
$$;

-- The refusals whose spoken line promises a person ("Let me have the front desk call you back", "the front desk
-- can still help"): each records a callback request (kind failure) for the call. Who: the appointment the tool
-- call named (its appointment_id argument, else the one the refusal names: within_notice does) -- its contact's
-- number and its patient's name --, else the hold the call named (hold_id), else the trusted caller_phone the
-- adapter passes to the returning-caller tools. NULL for every other result. Called by internal.tool_response,
-- in the tool call's transaction. tests/pgtap/test_52_front_desk.sql lists every line that promises a person
-- and proves each leads here or is a transfer.
CREATE FUNCTION internal.callback_for_refusal(o voxbook.organizations, function_name text, args jsonb, result jsonb,
                                              call_id text)
    RETURNS jsonb
    LANGUAGE plpgsql AS $$
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
$$;


CREATE FUNCTION api.front_desk_transfer(org_id uuid, call_id text DEFAULT NULL, caller_phone text DEFAULT NULL,
                                        caller_name text DEFAULT NULL, reason text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.front_desk_transfer(uuid, text, text, text, text) IS
$$Where a caller who asks for a person goes (Vapi's transfer-destination-request of the transfer_to_front_desk tool).
While the clinic is open (an active provider works now, no clinic-wide closure) and it has a front-desk number
(organizations.front_desk_phone): {"success": true, "transfer": true, "destination": "+1...", "message": <the line
said before transferring, in the call's language>}. Otherwise a callback request is recorded for the call (kind
after_hours when closed, asked when there is no front-desk number; once per call) and texted to the front desk:
{"success": true, "transfer": false, "code": "closed" | "no_front_desk", "message": <the line saying the front
desk will call back>, "callback_request_id"}. caller_phone: Vapi's call.customer.number (trusted), NULL on web calls.
Errors: VB404 unknown org.
Example: SELECT api.front_desk_transfer(:org, call_id => 'call-1', caller_phone => '+15551230000');$$;


CREATE FUNCTION api.record_transfer_failure(org_id uuid, call_id text, caller_phone text DEFAULT NULL,
                                            ended_reason text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.record_transfer_failure(uuid, text, text, text) IS
$$A call's end (Vapi's status-update or end-of-call-report endedReason): when it says a transfer failed
(call.in-progress.error-transfer-failed, a warm-transfer error, operator busy; not assistant-forwarded-call), a
callback request (kind transfer_failed) is recorded and texted to the front desk, once per call.
Returns {"success": true, "recorded": false} for any other reason, else {"success": true, "recorded": true,
"duplicate": <recorded before for this call>, "callback_request": {...}}.
Errors: VB404 unknown org; VB400 call_id missing (for a failed transfer).
Example: SELECT api.record_transfer_failure(:org, 'call-1', '+15551230000', 'call.in-progress.error-transfer-failed');$$;


CREATE FUNCTION api.list_callback_requests(org_id uuid, status text DEFAULT 'open', max_rows int DEFAULT 100)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.list_callback_requests(uuid, text, int) IS
$$The clinic's callback requests, newest first: {"success": true, "callback_requests": [{"id", "kind"
(transfer_failed | after_hours | asked | reschedule_request | sms_reply | failure), "status" (open | done),
"reason", "name", "phone", "phone_display", "vapi_call_id" (the call's transcript: voxbook.calls by this id, once
Vapi's end-of-call report came), "appointment_id", "sms_id" (the text to the front desk), "created_at",
"created_local", "done_at", "done_by", "note"}]}. status: 'open' (default), 'done', or NULL for both.
Errors: VB404 unknown org; VB400 bad status or max_rows (1-1000).
Example: SELECT api.list_callback_requests(:org);$$;


CREATE FUNCTION api.resolve_callback_request(org_id uuid, callback_request_id uuid, done_by text, note text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.resolve_callback_request(uuid, uuid, text, text) IS
$$Marks a callback request done (the clinic called back): who (done_by, required; a longer one than 200
characters is shortened as internal.audit_name does, a trailing <email> kept whole), when, an optional note.
Idempotent: a request already done is returned as it is ({"already_done": true}).
Returns {"success": true, "already_done": bool, "callback_request": {... as api.list_callback_requests}}.
Errors: VB404 unknown org or request (another clinic's included); VB400 done_by missing, note too long.
Example: SELECT api.resolve_callback_request(:org, :id, done_by => 'ana', note => 'rebooked for Friday');$$;
