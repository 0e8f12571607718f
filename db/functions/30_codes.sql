-- One-time codes: the caller proves they hold the phone the booking is for.
-- Codes are random (pgcrypto), stored as sha256(salt || code), limited in sends and attempts per hold,
-- and die with the hold. The plain code exists only in the outbox body until the SMS is handed over.

CREATE FUNCTION api.send_otp_code(hold_id uuid, org_id uuid, patient_phone text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := voxbook.require_org(org_id);
    phone text := voxbook.normalize_phone(patient_phone, o.country_code);
    now_ts timestamptz := voxbook.clock();
    h voxbook.holds;
    code text;
    salt bytea := gen_random_bytes(16);
    m voxbook.sms_outbox;
BEGIN
    h := voxbook.lock_hold(o.id, hold_id);
    IF h.status <> 'held' OR h.expires_at <= now_ts THEN
        RETURN voxbook.refusal('hold_expired', 'Hold has expired or was released; reserve the time again',
                               jsonb_build_object('hold_id', h.id));
    END IF;
    phone := coalesce(phone, h.patient_phone);
    IF phone IS NULL THEN
        PERFORM voxbook.fail('VB400', 'no phone number to send the code to',
                             'Pass patient_phone (the caller''s mobile number).');
    END IF;
    IF h.otp_sends >= o.max_code_sends THEN
        RETURN voxbook.refusal('resend_limit', 'Too many codes sent for this booking',
                               jsonb_build_object('hold_id', h.id, 'sends_left', 0));
    END IF;

    -- Uniform digits from 8 random bytes (the modulo bias over 2^64 is negligible).
    code := lpad(((('x' || encode(gen_random_bytes(8), 'hex'))::bit(64)::bigint & 9223372036854775807)
                  % (10 ^ o.code_length)::bigint)::text, o.code_length, '0');
    -- A code already on its way is superseded: only the newest one will verify.
    UPDATE voxbook.sms_outbox AS x SET status = 'cancelled', skip_reason = 'superseded by a new code', updated_at = now(),
                                       body = voxbook.redact_sms(x.body)
     WHERE x.org_id = o.id AND x.hold_id = h.id AND x.kind = 'otp' AND x.status = 'queued';
    UPDATE voxbook.holds AS x
       SET otp_salt = salt, otp_hash = digest(salt || convert_to(code, 'UTF8'), 'sha256'),
           otp_sends = x.otp_sends + 1, otp_sent_at = now_ts, patient_phone = phone, updated_at = now_ts
     WHERE x.org_id = h.org_id AND x.id = h.id
    RETURNING x.* INTO h;
    m := voxbook.queue_sms(o.id, 'otp', phone,
                           voxbook.gsm7(format('%s is your %s code to confirm your appointment. It expires in %s minutes.',
                                               code, o.name, ceil(extract(epoch FROM h.expires_at - now_ts) / 60)::int)),
                           hold_id => h.id, expires_at => h.expires_at, redact_after_send => true);
    RETURN jsonb_build_object('success', m.status = 'queued', 'code_sent', m.status = 'queued',
                              'message_id', m.id, 'hold_id', h.id,
                              'expires_at', voxbook.utc_iso(h.expires_at),
                              'sends_left', o.max_code_sends - h.otp_sends)
           || CASE WHEN m.status = 'queued' THEN '{}'::jsonb
                   ELSE jsonb_build_object('code', 'opted_out',
                                           'error', 'This number has opted out of text messages (replied STOP)') END;
END
$$;
COMMENT ON FUNCTION api.send_otp_code(uuid, uuid, text) IS
$$Issues a new one-time code for a live hold and queues it by SMS (to patient_phone, or the hold's phone).
The code is stored only as a salted sha256; an older unsent code is cancelled; at most the clinic's
max_code_sends codes per hold. The SMS expires with the hold.
Returns {"success": true, "code_sent": true, "message_id", "hold_id", "expires_at", "sends_left"} or
{"success": false, "code": "hold_expired" | "resend_limit" | "opted_out", "error", ...}.
Errors: VB404 unknown org or hold; VB400 no or malformed phone.
Example: SELECT api.send_otp_code('<hold_id>', 'a0000000-0000-0000-0000-000000000001');$$;


CREATE FUNCTION api.verify_otp(hold_id uuid, org_id uuid, code text, contact_id uuid DEFAULT NULL,
                               service text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := voxbook.require_org(org_id);
    now_ts timestamptz := voxbook.clock();
    h voxbook.holds;
    given text := regexp_replace(coalesce(code, ''), '[\s-]', '', 'g');
    left_ int;
BEGIN
    -- The row lock serialises parallel guesses, so the attempt limit cannot be outrun.
    h := voxbook.lock_hold(o.id, hold_id);
    IF h.status = 'confirmed' AND h.otp_verified_at IS NOT NULL THEN
        RETURN voxbook.confirm_hold(o.id, h.id, contact_id, service, 'otp', NULL);   -- same appointment again
    END IF;
    IF h.status <> 'held' OR h.expires_at <= now_ts THEN
        RETURN voxbook.refusal('hold_expired', 'Hold has expired or was released; reserve the time again',
                               jsonb_build_object('hold_id', h.id, 'retries_left', 0));
    END IF;
    IF h.otp_hash IS NULL THEN
        RETURN voxbook.refusal('no_code', 'No code has been sent for this booking yet',
                               jsonb_build_object('hold_id', h.id));
    END IF;
    IF given !~ '^[0-9]{4,8}$' THEN
        -- Not a guess at all (empty, words): tell the caller without spending an attempt.
        RETURN voxbook.refusal('malformed_code', 'The code is the digits from the text message',
                               jsonb_build_object('hold_id', h.id,
                                                  'retries_left', o.max_code_attempts - h.otp_attempts));
    END IF;

    IF digest(h.otp_salt || convert_to(given, 'UTF8'), 'sha256') = h.otp_hash THEN
        UPDATE voxbook.holds AS x SET otp_verified_at = now_ts, otp_attempts = x.otp_attempts + 1, updated_at = now_ts
         WHERE x.org_id = h.org_id AND x.id = h.id;
        RETURN voxbook.confirm_hold(o.id, h.id, contact_id, service, 'otp', NULL);
    END IF;

    UPDATE voxbook.holds AS x SET otp_attempts = x.otp_attempts + 1, updated_at = now_ts
     WHERE x.org_id = h.org_id AND x.id = h.id
    RETURNING x.* INTO h;
    left_ := greatest(o.max_code_attempts - h.otp_attempts, 0);
    IF left_ = 0 THEN
        -- Out of attempts: the time goes back to everyone else.
        PERFORM api.release_hold(h.id, o.id, 'too many wrong codes');
        RETURN voxbook.refusal('attempts_exhausted', 'Incorrect code, and no attempts are left; the time was released',
                               jsonb_build_object('hold_id', h.id, 'retries_left', 0));
    END IF;
    RETURN voxbook.refusal('wrong_code', 'Incorrect code', jsonb_build_object('hold_id', h.id, 'retries_left', left_));
END
$$;
COMMENT ON FUNCTION api.verify_otp(uuid, uuid, text, uuid, text) IS
$$Checks the code the caller read back. Right: the hold becomes a confirmed appointment in the same
transaction (contact created or updated with booking_source = 'phone_ai', confirmation SMS queued,
reminder scheduled) and the appointment is returned (see api.confirm_held_slot); repeating it returns
the same appointment. Wrong: {"success": false, "code": "wrong_code", "error", "retries_left"}; after the
clinic's max_code_attempts (default 3) the hold is released ("attempts_exhausted"). Also
"hold_expired", "no_code", "malformed_code" (not digits: no attempt spent).
Errors: VB404 unknown org or hold.
Example: SELECT api.verify_otp('<hold_id>', 'a0000000-0000-0000-0000-000000000001', '1234');$$;
