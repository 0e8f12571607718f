-- Returning callers (issue 15): a caller manages the appointments of a phone number by voice.
-- * caller_verifications: a call proving it speaks for a phone number other than the one it calls from (or
--   calling from a withheld one): a one-time code texted to THAT number, kept as the holds keep theirs
--   (HMAC-SHA256 of salt || code keyed by the voxbook.code_pepper role setting, db/functions/30_codes.sql),
--   limited per row (organizations.max_code_sends, max_code_attempts) and over the same sliding windows
--   (voxbook.code_events). One row per (call, number); verified_at says the call has proven it.
-- * code_events.hold_id becomes optional: the events of these codes have no hold.
-- New clinic table: created without keys, distributed at once when the database already is
-- (voxbook.distribute_if_citus, 0019), then given its keys.
-- depends: 0011_code_limits 0019_time_zone_names 0024_booking_rules

CREATE TABLE voxbook.caller_verifications (
    org_id       uuid NOT NULL,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    vapi_call_id text NOT NULL,
    phone        voxbook.e164 NOT NULL,
    otp_salt     bytea,
    otp_hash     bytea,
    otp_sends    int NOT NULL DEFAULT 0,
    otp_attempts int NOT NULL DEFAULT 0,
    sent_at      timestamptz,
    expires_at   timestamptz,
    verified_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);
CALL voxbook.distribute_if_citus('voxbook.caller_verifications');
ALTER TABLE voxbook.caller_verifications
    ADD CONSTRAINT caller_verifications_once UNIQUE (org_id, vapi_call_id, phone);
ALTER TABLE voxbook.caller_verifications
    ADD FOREIGN KEY (org_id) REFERENCES voxbook.organizations (id) ON DELETE CASCADE;
COMMENT ON TABLE voxbook.caller_verifications IS
    'A call proving, with a code texted to that number, that it speaks for a phone number it does not call from '
    '(api.find_my_appointments); verified_at set once the code matched. Codes stored as HMAC only.';
COMMENT ON COLUMN voxbook.caller_verifications.otp_hash IS
    'HMAC-SHA256 of otp_salt || code keyed by the voxbook.code_pepper role setting; never the plain code.';

ALTER TABLE voxbook.code_events ALTER COLUMN hold_id DROP NOT NULL;
COMMENT ON COLUMN voxbook.code_events.hold_id IS
    'The hold the code was for; NULL for a code proving a caller (voxbook.caller_verifications).';
