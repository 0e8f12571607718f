-- Two-way calendar sync over CalDAV (issue 17).
-- * calendar_connections: one provider (calendars row) <-> one CalDAV calendar collection: its URL, the
--   username, and the password or app password as a Fernet ciphertext made by the application with
--   VOXBOOK_SECRETS_KEY (voxbook/secrets_box.py; the database never sees the key or the plaintext, as
--   carrier_accounts), the per-clinic event title and patient-name policy, the sync state (sync-token or
--   the caldav library's etag digest, ctag, when the recurring events were last expanded) and its health
--   (last success, last error class and reason, consecutive failures, next attempt with backoff). The sync
--   worker claims a due connection with a lease (locked_by, lease_until): one worker per calendar at a time.
-- * calendar_pushes: what the worker has written to the external calendar, per appointment: the event's
--   href and ETag and the times and title it carries. The worker compares it with the appointments (the
--   truth) each round: a new, moved or renamed appointment is PUT, a cancelled one DELETEd. No trigger on
--   appointments (a trigger writing another distributed table from a shard is what Citus calls unsafe, and
--   every booking path would pay it); the comparison finds every change whatever path made it.
-- * blocked_periods gains the columns of imported busy time: source 'caldav', the connection (deleted with
--   it), the event's UID, RECURRENCE-ID (one row per occurrence), href and ETag. Availability and claims
--   read blocked_periods as before (db/functions/13_slots.sql): nothing there changes.
-- New clinic tables: created without keys, distributed at once when the database already is (0019).
-- depends: 0001_core 0019_time_zone_names 0023_clinic_setup

CREATE TABLE voxbook.calendar_connections (
    org_id               uuid NOT NULL,
    id                   uuid NOT NULL DEFAULT gen_random_uuid(),
    calendar_id          text NOT NULL,
    url                  text NOT NULL CHECK (url ~ '^https?://[^\s]+$' AND length(url) <= 2000),
    username             text NOT NULL CHECK (length(username) BETWEEN 1 AND 320),
    secret_ciphertext    text NOT NULL CHECK (secret_ciphertext ~ '^gAAAAA[A-Za-z0-9_=-]+$'
                                          AND length(secret_ciphertext) BETWEEN 100 AND 20000),
    key_id               text NOT NULL CHECK (key_id ~ '^[0-9a-f]{8,64}$'),
    event_title          text NOT NULL DEFAULT '{service}' CHECK (length(event_title) BETWEEN 1 AND 200),
    patient_name         text NOT NULL DEFAULT 'none' CHECK (patient_name IN ('none', 'first', 'full')),
    sync_token           text CHECK (length(sync_token) <= 4000),
    ctag                 text CHECK (length(ctag) <= 1000),
    expanded_until       timestamptz,
    last_full_sync_at    timestamptz,
    last_attempt_at      timestamptz,
    last_success_at      timestamptz,
    last_error_class     text CHECK (last_error_class IN ('bad_credentials', 'not_a_calendar', 'no_write_permission',
                                                          'unreachable', 'server_error', 'secrets_key', 'invalid_data')),
    last_error           text CHECK (length(last_error) <= 500),
    consecutive_failures int NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    next_attempt_at      timestamptz NOT NULL DEFAULT now(),
    locked_by            text CHECK (length(locked_by) <= 200),
    lease_until          timestamptz,
    events_pushed        bigint NOT NULL DEFAULT 0,
    busy_imported        int NOT NULL DEFAULT 0,
    connected_by         text CHECK (length(connected_by) <= 200),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);
CALL voxbook.distribute_if_citus('voxbook.calendar_connections');
ALTER TABLE voxbook.calendar_connections
    ADD FOREIGN KEY (org_id) REFERENCES voxbook.organizations (id) ON DELETE CASCADE;
ALTER TABLE voxbook.calendar_connections
    ADD FOREIGN KEY (org_id, calendar_id) REFERENCES voxbook.calendars (org_id, id) ON DELETE CASCADE;
-- One external calendar per provider: its busy time and its appointments have one place.
ALTER TABLE voxbook.calendar_connections
    ADD CONSTRAINT calendar_connections_one_per_provider UNIQUE (org_id, calendar_id);
CREATE INDEX calendar_connections_due ON voxbook.calendar_connections (next_attempt_at);
COMMENT ON TABLE voxbook.calendar_connections IS
    'A provider''s external CalDAV calendar, synced both ways by the calendar sync worker (workers/calendar_sync.py): '
    'confirmed appointments become events there (calendar_pushes), busy time there becomes blocked_periods here. '
    'Set with api.connect_calendar; health in api.list_calendar_connections.';
COMMENT ON COLUMN voxbook.calendar_connections.secret_ciphertext IS
    'Fernet ciphertext of the CalDAV password or app password under VOXBOOK_SECRETS_KEY (outside the database).';
COMMENT ON COLUMN voxbook.calendar_connections.event_title IS
    'Title of the events pushed there: {service}, {provider} and {patient} (the patient_name policy) are filled in.';
COMMENT ON COLUMN voxbook.calendar_connections.patient_name IS
    'How much of the patient''s name the pushed events show: none, first (first name) or full. Never the phone.';
COMMENT ON COLUMN voxbook.calendar_connections.sync_token IS
    'The server''s sync-token (RFC 6578), or the caldav library''s digest of the ETags (fake-...) where the server has none.';
COMMENT ON COLUMN voxbook.calendar_connections.expanded_until IS
    'Recurring events are expanded up to this instant; a full read expands them again as time passes.';

CREATE TABLE voxbook.calendar_pushes (
    org_id         uuid NOT NULL,
    connection_id  uuid NOT NULL,
    appointment_id uuid NOT NULL,
    href           text NOT NULL CHECK (length(href) <= 2500),
    etag           text CHECK (length(etag) <= 500),
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL,
    title          text NOT NULL CHECK (length(title) <= 400),
    pushes         int NOT NULL DEFAULT 1,
    pushed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, connection_id, appointment_id)
);
CALL voxbook.distribute_if_citus('voxbook.calendar_pushes');
ALTER TABLE voxbook.calendar_pushes
    ADD FOREIGN KEY (org_id, connection_id) REFERENCES voxbook.calendar_connections (org_id, id) ON DELETE CASCADE;
ALTER TABLE voxbook.calendar_pushes
    ADD FOREIGN KEY (org_id, appointment_id) REFERENCES voxbook.appointments (org_id, id) ON DELETE CASCADE;
COMMENT ON TABLE voxbook.calendar_pushes IS
    'The event each appointment has in its provider''s external calendar (href, ETag, the times and title written). '
    'No row: not pushed yet, or deleted there after a cancellation.';

ALTER TABLE voxbook.blocked_periods ADD COLUMN source text CHECK (source = 'caldav');
ALTER TABLE voxbook.blocked_periods ADD COLUMN connection_id uuid;
ALTER TABLE voxbook.blocked_periods ADD COLUMN event_uid text CHECK (length(event_uid) <= 1000);
ALTER TABLE voxbook.blocked_periods ADD COLUMN event_recurrence_id text CHECK (length(event_recurrence_id) <= 100);
ALTER TABLE voxbook.blocked_periods ADD COLUMN event_href text CHECK (length(event_href) <= 2500);
ALTER TABLE voxbook.blocked_periods ADD COLUMN event_etag text CHECK (length(event_etag) <= 500);
ALTER TABLE voxbook.blocked_periods
    ADD CONSTRAINT blocked_periods_caldav_source CHECK ((source IS NULL) = (connection_id IS NULL));
ALTER TABLE voxbook.blocked_periods
    ADD FOREIGN KEY (org_id, connection_id) REFERENCES voxbook.calendar_connections (org_id, id) ON DELETE CASCADE;
CREATE INDEX blocked_periods_by_event ON voxbook.blocked_periods (org_id, connection_id, event_href)
    WHERE connection_id IS NOT NULL;
COMMENT ON COLUMN voxbook.blocked_periods.source IS
    'NULL: made by staff (api.block_time); caldav: busy time imported from the provider''s calendar (connection_id).';
COMMENT ON COLUMN voxbook.blocked_periods.event_recurrence_id IS
    'The occurrence of a recurring event (its start, UTC) this row is; NULL for a single event.';
