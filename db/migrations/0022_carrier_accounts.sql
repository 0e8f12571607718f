-- A carrier account per clinic (issue 13): a clinic may send through its own Twilio account or subaccount
-- (billing, sender registration, opt-out lists) instead of the process-wide one (TWILIO_ACCOUNT_SID).
-- The auth token is stored encrypted only: the application encrypts it with VOXBOOK_SECRETS_KEY, a key the
-- database never sees (voxbook/secrets_box.py, Fernet), and stores the ciphertext with the id of the key
-- that made it (key_id), so a rotation knows what is left to re-encrypt. The CHECK refuses anything that is
-- not a Fernet token: a plaintext token passed by mistake is refused, not stored.
-- One row per clinic (org_id is the key, the distribution column on Citus). Several clinics may share an
-- account (a network on one subaccount): account_sid is not unique, and is indexed for the inbound webhook,
-- which finds the clinics of a Messaging Service number by the AccountSid Twilio sends.
-- depends: 0001_core 0018_citus_ready

CREATE TABLE voxbook.carrier_accounts (
    org_id                uuid PRIMARY KEY REFERENCES voxbook.organizations (id) ON DELETE CASCADE,
    provider              text NOT NULL DEFAULT 'twilio' CHECK (provider = 'twilio'),
    account_sid           text NOT NULL CHECK (account_sid ~ '^AC[0-9a-f]{32}$'),
    auth_token_ciphertext text NOT NULL CHECK (auth_token_ciphertext ~ '^gAAAAA[A-Za-z0-9_=-]+$'
                                           AND length(auth_token_ciphertext) BETWEEN 100 AND 1000),
    key_id                text NOT NULL CHECK (key_id ~ '^[0-9a-f]{8,64}$'),
    messaging_service_sid text CHECK (messaging_service_sid ~ '^MG[0-9a-f]{32}$'),
    parent_account_sid    text CHECK (parent_account_sid ~ '^AC[0-9a-f]{32}$' AND parent_account_sid <> account_sid),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX carrier_accounts_account_sid ON voxbook.carrier_accounts (account_sid);
COMMENT ON TABLE voxbook.carrier_accounts IS
    'A clinic''s own carrier (Twilio) account; a clinic without a row uses the process-wide account. Set with api.set_carrier_account.';
COMMENT ON COLUMN voxbook.carrier_accounts.auth_token_ciphertext IS
    'Fernet ciphertext of the auth token under VOXBOOK_SECRETS_KEY (outside the database); the plaintext is never stored.';
COMMENT ON COLUMN voxbook.carrier_accounts.key_id IS
    'Id of the key that made the ciphertext (sha256 of the key, 12 hex digits): what a key rotation re-encrypts.';
COMMENT ON COLUMN voxbook.carrier_accounts.messaging_service_sid IS
    'The clinic''s Messaging Service (MG...): messages go through it; NULL = from the clinic''s sms_from number.';
COMMENT ON COLUMN voxbook.carrier_accounts.parent_account_sid IS
    'Set when account_sid is a subaccount: the main account it belongs to (for the operator; not used to send).';
