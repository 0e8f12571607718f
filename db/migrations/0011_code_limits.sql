-- One-time codes that hold against an adversary (issue 10, items 3 and 11):
--  * sliding-window limits on code sends and wrong guesses per phone number, per call and per clinic,
--    counted in voxbook.code_events (every key and index starts with org_id: the distribution column);
--  * codes only to the clinic's allowed calling codes (SMS pumping pays per message sent abroad);
--  * six-digit codes by default;
--  * codes hashed with HMAC-SHA256 keyed by a pepper kept outside the clinic data (a role-level setting
--    made by `voxbook db migrate`), so the unkeyed sha256 hashes of short codes are dropped here;
--  * voxbook_clock: the only role (besides superusers) whose sessions may freeze voxbook.clock().
-- depends: 0009_holds_calendar_guard

ALTER TABLE voxbook.organizations
    ALTER COLUMN code_length SET DEFAULT 6,
    ADD COLUMN code_sends_per_phone_hour    int NOT NULL DEFAULT 5   CHECK (code_sends_per_phone_hour BETWEEN 1 AND 1000),
    ADD COLUMN code_failures_per_phone_hour int NOT NULL DEFAULT 10  CHECK (code_failures_per_phone_hour BETWEEN 1 AND 1000),
    ADD COLUMN code_sends_per_call          int NOT NULL DEFAULT 5   CHECK (code_sends_per_call BETWEEN 1 AND 1000),
    ADD COLUMN code_failures_per_call       int NOT NULL DEFAULT 10  CHECK (code_failures_per_call BETWEEN 1 AND 1000),
    ADD COLUMN code_sends_per_clinic_hour   int NOT NULL DEFAULT 200 CHECK (code_sends_per_clinic_hour BETWEEN 1 AND 100000),
    ADD COLUMN code_failures_per_clinic_hour int NOT NULL DEFAULT 500 CHECK (code_failures_per_clinic_hour BETWEEN 1 AND 100000),
    -- NULL: only the clinic's own country_code. Entries are E.164 prefixes without '+': a calling code
    -- ('1', '44') or a longer prefix ('1876') to narrow a shared calling code such as NANP's 1.
    ADD COLUMN allowed_sms_calling_codes text[]
        CHECK (cardinality(allowed_sms_calling_codes) BETWEEN 1 AND 50
               AND array_to_string(allowed_sms_calling_codes, ',', '') ~ '^[1-9][0-9]{0,5}(,[1-9][0-9]{0,5})*$');
-- Clinics on the old default get the new one; a clinic that chose another length keeps it.
UPDATE voxbook.organizations SET code_length = 6 WHERE code_length = 4;

COMMENT ON COLUMN voxbook.organizations.allowed_sms_calling_codes IS
    'E.164 prefixes without + (calling codes such as 1 or 44, or longer ones) one-time codes may be sent to; NULL = only country_code.';
COMMENT ON COLUMN voxbook.organizations.code_sends_per_phone_hour IS
    'Codes sent to one phone number in any sliding hour (besides max_code_sends per hold).';
COMMENT ON COLUMN voxbook.organizations.code_failures_per_phone_hour IS
    'Wrong codes entered for one phone number in any sliding hour; then verification waits (rate_limited).';
COMMENT ON COLUMN voxbook.organizations.code_sends_per_call IS 'Codes sent during one call (holds with the same call_sid).';
COMMENT ON COLUMN voxbook.organizations.code_failures_per_call IS 'Wrong codes entered during one call.';
COMMENT ON COLUMN voxbook.organizations.code_sends_per_clinic_hour IS 'Codes the clinic sends in any sliding hour (SMS pumping cap).';
COMMENT ON COLUMN voxbook.organizations.code_failures_per_clinic_hour IS 'Wrong codes entered across the clinic in any sliding hour.';

CREATE TABLE voxbook.code_events (
    org_id   uuid NOT NULL REFERENCES voxbook.organizations (id) ON DELETE CASCADE,
    id       bigint GENERATED ALWAYS AS IDENTITY,
    kind     text NOT NULL CHECK (kind IN ('send', 'failure')),
    at       timestamptz NOT NULL,
    phone    voxbook.e164 NOT NULL,
    call_sid text,
    hold_id  uuid NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX code_events_by_phone ON voxbook.code_events (org_id, phone, kind, at);
CREATE INDEX code_events_by_call ON voxbook.code_events (org_id, call_sid, kind, at) WHERE call_sid IS NOT NULL;
CREATE INDEX code_events_by_time ON voxbook.code_events (org_id, kind, at);
COMMENT ON TABLE voxbook.code_events IS
    'Code sends and wrong guesses, counted by the sliding-window limits of api.send_otp_code and api.verify_otp; '
    'rows older than a day are deleted by the next send of their clinic.';

-- Hashes made without a key are as good as the code to whoever has a dump: drop them. A code in flight at
-- the upgrade answers "no_code" and the caller asks for a new one.
UPDATE voxbook.holds SET otp_hash = NULL, otp_salt = NULL WHERE otp_hash IS NOT NULL;
COMMENT ON COLUMN voxbook.holds.otp_hash IS
    'HMAC-SHA256 of otp_salt || code keyed by the voxbook.code_pepper role setting; never the plain code.';

-- Roles are cluster-wide: create it once. Nobody is a member unless a test set-up grants it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'voxbook_clock') THEN
        CREATE ROLE voxbook_clock NOLOGIN;
        COMMENT ON ROLE voxbook_clock IS
            'Sessions of its members (and superusers) may freeze voxbook.clock() with voxbook.frozen_now; for tests only.';
    END IF;
END
$$;
