-- One-time codes: the caller proves they hold the phone the booking is for.
-- Codes are random (pgcrypto) and six digits by default; a hold stores only HMAC-SHA256(salt || code) keyed by
-- a pepper that is not clinic data (the role setting voxbook.code_pepper, made by `voxbook db migrate` from
-- VOXBOOK_CODE_PEPPER), so a dump of the database alone does not give the codes away. Sends and guesses are
-- limited per hold, and over sliding windows per phone number, per call and per clinic; codes go only to the
-- clinic's allowed calling codes; they die with the hold. The plain code exists only in the outbox body
-- until the SMS is handed over.

-- The key of the code hashes, or NULL when this session has none (then no code is sent or checked).
CREATE FUNCTION internal.code_pepper() RETURNS bytea
    LANGUAGE sql STABLE AS $$
    SELECT convert_to(nullif(current_setting('voxbook.code_pepper', true), ''), 'UTF8')
$$;

CREATE FUNCTION internal.code_hash(salt bytea, code text, pepper bytea) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT
    SET search_path = pg_catalog, public AS $$
    SELECT hmac(salt || convert_to(code, 'UTF8'), pepper, 'sha256')
$$;

CREATE FUNCTION internal.codes_unavailable(hold_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT internal.refusal('codes_unavailable', internal.message('refusal.codes_unavailable', 'en'),
                            jsonb_build_object('hold_id', hold_id))
$$;

-- The sliding-window limits on code events (kind 'send' or 'failure', a wrong guess) of a clinic: NULL when
-- one more event is allowed, else the "rate_limited" refusal with the seconds until it would be.
-- Windows: one hour per phone number and per clinic; one day per call (a call never lasts that long, so
-- per call this is the whole call). Events stamped after now_ts (a frozen test clock) are not counted.
-- Locks the clinic's row of voxbook.code_limit_locks first, so parallel sends and guesses cannot outrun a limit.
CREATE FUNCTION internal.code_rate_limit(o voxbook.organizations, kind text, phone text, vapi_call_id text,
                                         hold_id uuid, now_ts timestamptz)
    RETURNS jsonb
    LANGUAGE plpgsql AS $$
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

CREATE FUNCTION internal.record_code_event(org_id uuid, kind text, h voxbook.holds, at timestamptz)
    RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO voxbook.code_events (org_id, kind, at, phone, vapi_call_id, hold_id)
    VALUES (org_id, kind, at, h.patient_phone, h.vapi_call_id, h.id);
END
$$;


CREATE FUNCTION api.send_otp_code(hold_id uuid, org_id uuid, patient_phone text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
COMMENT ON FUNCTION api.send_otp_code(uuid, uuid, text) IS
$$Issues a new one-time code (the clinic's code_length digits, default 6) for a live hold and queues it by SMS
(to patient_phone, or the hold's phone). The code is stored only as HMAC-SHA256 keyed by the voxbook.code_pepper
role setting; an older unsent code is cancelled. Limits: max_code_sends per hold; code_sends_per_phone_hour,
code_sends_per_call and code_sends_per_clinic_hour over sliding windows (an hour; a call); only numbers starting
with one of allowed_sms_calling_codes (default: the clinic's country_code). The SMS expires with the hold.
Returns {"success": true, "code_sent": true, "message_id", "hold_id", "expires_at", "sends_left", "code_length"} or
{"success": false, "code": "hold_expired" | "resend_limit" | "rate_limited" (with "retry_after_seconds") |
"destination_not_allowed" | "codes_unavailable" (no pepper configured) | "opted_out", "error", ...}.
Errors: VB404 unknown org or hold; VB400 no or malformed phone.
Example: SELECT api.send_otp_code('<hold_id>', 'a0000000-0000-0000-0000-000000000001');$$;


CREATE FUNCTION api.verify_otp(hold_id uuid, org_id uuid, code text, contact_id uuid DEFAULT NULL,
                    service text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
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
$$;
COMMENT ON FUNCTION api.verify_otp(uuid, uuid, text, uuid, text) IS
$$Checks the code the caller read back. contact_id and service are checked first (VB404), so a failing call
never tests the code. Right: the hold becomes a confirmed appointment in the same transaction (contact created
or updated with booking_source = 'phone_ai', confirmation SMS queued, reminder scheduled) and the appointment is
returned (see api.confirm_held_slot); repeating it returns the same appointment. Wrong: {"success": false,
"code": "wrong_code", "error", "retries_left"}; after the clinic's max_code_attempts (default 3) the hold is
released ("attempts_exhausted"). Wrong codes are also limited over sliding windows (code_failures_per_phone_hour,
code_failures_per_call, code_failures_per_clinic_hour): beyond them "rate_limited" with "retry_after_seconds",
and the code is not checked. Also "hold_expired", "no_code", "malformed_code" (not digits: no attempt spent),
"codes_unavailable" (no pepper configured).
Errors: VB404 unknown org, hold, contact or service.
Example: SELECT api.verify_otp('<hold_id>', 'a0000000-0000-0000-0000-000000000001', '123456');$$;


CREATE FUNCTION api.code_status()
    RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
    SELECT CASE WHEN internal.code_pepper() IS NULL
                THEN jsonb_build_object('available', false, 'reason', 'no pepper configured')
                ELSE jsonb_build_object('available', true) END
$$;
COMMENT ON FUNCTION api.code_status() IS
$$Whether this session can send and check one-time codes: {"available": true}, or {"available": false,
"reason": "no pepper configured"} when the login role has no voxbook.code_pepper setting (set by
`voxbook db migrate` from VOXBOOK_CODE_PEPPER). Never shows the pepper. Used by GET /health.
Example: SELECT api.code_status();$$;
