-- Staff accounts of a clinic (issue 16): people sign in to the dashboard with their own email and password, so
-- every action is done, and audited, in a person's name.
-- * staff_accounts: one person of one clinic, role owner (settings and accounts) or front_desk (schedule and
--   queues); status invited (no password yet) -> active -> deactivated. The password is hashed with argon2id in
--   the api layer (api/dashboard_auth.py): the database stores the encoded hash only, never a password. The same
--   email may have an account in two clinics (a locum): they are two rows, with passwords of their own.
-- * staff_invites: a one-time, expiring link to choose a password; only the token's sha256 is stored.
-- * sign_in_attempts: the dashboard sign-in's rate limit (failures per email and per client address in a
--   window). No clinic (an unknown email has none): a reference table on Citus, by the rule of db/citus/10.
--   The email is kept as its sha256 only: the table says how often, never who.
-- * dashboard_sessions: now a staff member's session (staff_id); the clinic dashboard token no longer signs in,
--   so the sessions opened with one (anonymous: no person) end here.
-- * audit_log.entity gains 'staff_account' (invites, role changes, deactivations). After 0031, which set the list
--   last before this one: the list below is 0031's plus 'staff_account'.
-- New clinic tables: created without keys, distributed at once when the database already is
-- (voxbook.distribute_if_citus, 0019), then given their keys.
-- depends: 0004_dashboard 0019_time_zone_names 0023_clinic_setup 0031_front_desk_dashboard

CREATE TABLE voxbook.staff_accounts (
    org_id         uuid NOT NULL,
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    -- Lower-cased by the api (internal.staff_email): one spelling per person and clinic.
    email          text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)
                                        AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role           text NOT NULL CHECK (role IN ('owner', 'front_desk')),
    status         text NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'active', 'deactivated')),
    -- argon2's encoded form ($argon2id$v=19$m=...,t=...,p=...$salt$hash): parameters travel with the hash.
    password_hash  text CHECK (password_hash LIKE '$argon2id$%' AND length(password_hash) <= 512),
    created_by     text CHECK (length(created_by) <= 200),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz,
    PRIMARY KEY (org_id, id),
    CHECK (status <> 'active' OR password_hash IS NOT NULL)
);
CALL voxbook.distribute_if_citus('voxbook.staff_accounts');
ALTER TABLE voxbook.staff_accounts
    ADD FOREIGN KEY (org_id) REFERENCES voxbook.organizations (id) ON DELETE CASCADE;
ALTER TABLE voxbook.staff_accounts
    ADD CONSTRAINT staff_accounts_one_per_email UNIQUE (org_id, email);
-- Sign-in finds a person's accounts by email, before it knows the clinic.
CREATE INDEX staff_accounts_by_email ON voxbook.staff_accounts (email);
COMMENT ON TABLE voxbook.staff_accounts IS
    'People who sign in to a clinic''s dashboard: role owner or front_desk, status invited/active/deactivated, '
    'an argon2id hash (made in the api layer) and never a password. Managed with api.invite_staff, '
    'api.set_staff_role, api.deactivate_staff (db/functions/71_staff_accounts.sql).';

CREATE TABLE voxbook.staff_invites (
    org_id     uuid NOT NULL,
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    staff_id   uuid NOT NULL,
    token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
    created_by text CHECK (length(created_by) <= 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (org_id, id)
);
CALL voxbook.distribute_if_citus('voxbook.staff_invites');
ALTER TABLE voxbook.staff_invites
    ADD FOREIGN KEY (org_id, staff_id) REFERENCES voxbook.staff_accounts (org_id, id) ON DELETE CASCADE;
-- Citus: a unique key of a distributed table includes its distribution column (as dashboard_tokens, 0018).
ALTER TABLE voxbook.staff_invites
    ADD CONSTRAINT staff_invites_token_hash_key UNIQUE (token_hash, org_id);
CREATE INDEX staff_invites_of_staff ON voxbook.staff_invites (org_id, staff_id);
COMMENT ON TABLE voxbook.staff_invites IS
    'One-time, expiring links to join a clinic''s dashboard (choose a password): sha256 of the token only.';

CREATE TABLE voxbook.sign_in_attempts (
    id             uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    email_hash     bytea NOT NULL CHECK (length(email_hash) = 32),
    client_address text NOT NULL CHECK (length(client_address) <= 100),
    succeeded      boolean NOT NULL
);
CREATE INDEX sign_in_attempts_by_email ON voxbook.sign_in_attempts (email_hash, at);
CREATE INDEX sign_in_attempts_by_address ON voxbook.sign_in_attempts (client_address, at);
COMMENT ON TABLE voxbook.sign_in_attempts IS
    'Dashboard sign-in attempts for the rate limit (internal.sign_in_limits): sha256 of the lower-cased email, '
    'the client address, success. Rows older than a day are deleted as new ones come.';

-- Sessions opened with a clinic token had no person behind them: they end, and every session now names one.
DELETE FROM voxbook.dashboard_sessions;
ALTER TABLE voxbook.dashboard_sessions ALTER COLUMN token_id DROP NOT NULL;
ALTER TABLE voxbook.dashboard_sessions ADD COLUMN staff_id uuid NOT NULL;
ALTER TABLE voxbook.dashboard_sessions
    ADD FOREIGN KEY (org_id, staff_id) REFERENCES voxbook.staff_accounts (org_id, id) ON DELETE CASCADE;
CREATE INDEX dashboard_sessions_of_staff ON voxbook.dashboard_sessions (org_id, staff_id);
COMMENT ON COLUMN voxbook.dashboard_sessions.staff_id IS
    'The staff member signed in: role and status are read at every request, so a change applies at the next one.';

ALTER TABLE voxbook.audit_log DROP CONSTRAINT audit_log_entity_check;
ALTER TABLE voxbook.audit_log ADD CONSTRAINT audit_log_entity_check
    CHECK (entity IN ('clinic', 'provider', 'service', 'hours', 'hours_exception', 'blocked_period', 'appointment',
                      'sms', 'waitlist', 'staff_account'));
