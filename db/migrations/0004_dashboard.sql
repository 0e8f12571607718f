-- Clinic dashboard: login tokens, browser sessions and calendar feed tokens, all stored as sha256 only.
-- depends: 0001_core

-- A clinic's dashboard token (handed to the owner once by `voxbook dashboard-token`). Only its
-- sha256 is kept: a stolen backup or a curious DBA learns nothing that logs in.
CREATE TABLE voxbook.dashboard_tokens (
    org_id       uuid NOT NULL REFERENCES voxbook.organizations (id) ON DELETE CASCADE,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    label        text CHECK (length(label) <= 200),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    PRIMARY KEY (org_id, id)
);
COMMENT ON TABLE voxbook.dashboard_tokens IS
    'Dashboard logins of a clinic: sha256 of the token only (api.issue_dashboard_token shows the token once).';

-- A logged-in browser. The cookie carries the session secret, never the long-lived token, so a
-- session can expire or be ended without touching the token; revoking the token ends its sessions.
CREATE TABLE voxbook.dashboard_sessions (
    org_id       uuid NOT NULL,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    token_id     uuid NOT NULL,
    session_hash bytea NOT NULL UNIQUE CHECK (length(session_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, token_id) REFERENCES voxbook.dashboard_tokens (org_id, id) ON DELETE CASCADE
);
CREATE INDEX dashboard_sessions_expiry ON voxbook.dashboard_sessions (org_id, expires_at);
COMMENT ON TABLE voxbook.dashboard_sessions IS
    'Browser sessions of the dashboard (cookie = session secret; only its sha256 is stored).';

-- Calendar apps subscribe to a URL and cannot send headers: the token is in the query string and
-- names one provider's calendar of one clinic.
CREATE TABLE voxbook.calendar_feed_tokens (
    org_id      uuid NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    calendar_id text NOT NULL,
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, calendar_id) REFERENCES voxbook.calendars (org_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE voxbook.calendar_feed_tokens IS
    'Subscription tokens of provider calendar feeds (GET /calendars/{calendar}.ics?token=...); sha256 only.';
