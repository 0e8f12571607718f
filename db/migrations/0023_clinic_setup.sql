-- Clinic set-up through the api (issue 14): what a clinic is -- its providers, services, hours, time off -- is
-- created and changed by api functions (db/functions/64_clinic_setup.sql), every change by a person recorded.
-- * services: buffers before and after (a 60-minute cleaning with 10 minutes after occupies 70), and active.
-- * service_providers: which providers offer a service; a service without rows is offered by every active one.
-- * hours_exceptions: the rows of a (calendar, date) replace that weekday's working hours on that date (a
--   Saturday clinic, a short day); one row without starts/ends = not working that day. Local wall-clock times.
-- * blocked_periods.calendar_id NULL = the whole clinic is closed (a holiday). The foreign key to calendars is
--   MATCH SIMPLE, so a NULL calendar_id is not checked against calendars; with a calendar it still is.
-- * organizations.cancellation_notice_minutes: the voice and SMS paths refuse a cancellation or a reschedule
--   within this notice (staff may override).
-- * appointments.cancelled_by / booked_by: the staff member who cancelled / booked (NULL = the caller).
-- * audit_log: who changed what, when, with the row before and after (internal.audit, db/functions/63_audit.sql).
-- New clinic tables: no identity columns, created without keys, distributed at once when the database already is
-- (voxbook.distribute_if_citus, 0019), then given their keys (db/README.md "Writing functions that run on Citus too").
-- depends: 0001_core 0019_time_zone_names 0021_languages 0022_carrier_accounts

ALTER TABLE voxbook.services
    ADD COLUMN buffer_before_minutes int NOT NULL DEFAULT 0 CHECK (buffer_before_minutes BETWEEN 0 AND 240);
ALTER TABLE voxbook.services
    ADD COLUMN buffer_after_minutes int NOT NULL DEFAULT 0 CHECK (buffer_after_minutes BETWEEN 0 AND 240);
ALTER TABLE voxbook.services
    ADD COLUMN active boolean NOT NULL DEFAULT true;
COMMENT ON COLUMN voxbook.services.buffer_before_minutes IS
    'Minutes kept free before the appointment (set-up): no other booking of the provider may use them.';
COMMENT ON COLUMN voxbook.services.buffer_after_minutes IS
    'Minutes kept free after the appointment (cleaning): a 60-minute service with 10 after occupies 70.';
COMMENT ON COLUMN voxbook.services.active IS 'An inactive service is never offered nor claimable; its past appointments stay.';

CREATE TABLE voxbook.service_providers (
    org_id      uuid NOT NULL,
    service_id  text NOT NULL,
    calendar_id text NOT NULL,
    PRIMARY KEY (org_id, service_id, calendar_id)
);
CALL voxbook.distribute_if_citus('voxbook.service_providers');
ALTER TABLE voxbook.service_providers
    ADD FOREIGN KEY (org_id, service_id) REFERENCES voxbook.services (org_id, id) ON DELETE CASCADE;
ALTER TABLE voxbook.service_providers
    ADD FOREIGN KEY (org_id, calendar_id) REFERENCES voxbook.calendars (org_id, id) ON DELETE CASCADE;
CREATE INDEX service_providers_by_calendar ON voxbook.service_providers (org_id, calendar_id);
COMMENT ON TABLE voxbook.service_providers IS
    'Which providers (calendars) offer a service. A service with no rows here is offered by every active provider. '
    'Set with api.upsert_service(providers => ...).';

CREATE TABLE voxbook.hours_exceptions (
    org_id      uuid NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    calendar_id text NOT NULL,
    on_date     date NOT NULL,
    starts      time,
    ends        time,
    reason      text CHECK (length(reason) <= 500),
    PRIMARY KEY (org_id, id),
    CHECK ((starts IS NULL) = (ends IS NULL) AND (starts IS NULL OR starts < ends))
);
CALL voxbook.distribute_if_citus('voxbook.hours_exceptions');
ALTER TABLE voxbook.hours_exceptions
    ADD FOREIGN KEY (org_id, calendar_id) REFERENCES voxbook.calendars (org_id, id) ON DELETE CASCADE;
-- Several intervals on one date, never overlapping (as working_hours); a closed day is a single NULL row.
ALTER TABLE voxbook.hours_exceptions
    ADD CONSTRAINT hours_exceptions_no_overlap
    EXCLUDE USING gist (org_id WITH =, calendar_id WITH =, on_date WITH =,
                        tsrange(DATE '2000-01-01' + coalesce(starts, TIME '00:00'),
                                CASE WHEN ends IS NULL THEN DATE '2000-01-02' ELSE DATE '2000-01-01' + ends END) WITH &&);
CREATE INDEX hours_exceptions_lookup ON voxbook.hours_exceptions (org_id, calendar_id, on_date);
COMMENT ON TABLE voxbook.hours_exceptions IS
    'Date exceptions to a provider''s weekly hours (local wall-clock times of the clinic''s zone): all rows of a '
    '(calendar, date) replace that weekday''s working_hours on that date; one row with NULL starts/ends = not '
    'working that day. Set with api.set_hours_exception.';

ALTER TABLE voxbook.blocked_periods ALTER COLUMN calendar_id DROP NOT NULL;
-- A closure names no calendar, so the clinic itself must hold it (rows with a calendar go with it already).
ALTER TABLE voxbook.blocked_periods
    ADD FOREIGN KEY (org_id) REFERENCES voxbook.organizations (id) ON DELETE CASCADE;
ALTER TABLE voxbook.blocked_periods ADD COLUMN created_by text CHECK (length(created_by) <= 200);
ALTER TABLE voxbook.blocked_periods ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
COMMENT ON TABLE voxbook.blocked_periods IS
    'Vacations, training days, holidays: no slot overlapping one is offered or claimable. calendar_id NULL = the '
    'whole clinic is closed. Set with api.block_time / api.unblock_time.';
COMMENT ON COLUMN voxbook.blocked_periods.calendar_id IS 'The provider whose time is blocked; NULL = every provider (the clinic is closed).';

ALTER TABLE voxbook.organizations
    ADD COLUMN cancellation_notice_minutes int NOT NULL DEFAULT 0
        CHECK (cancellation_notice_minutes BETWEEN 0 AND 10080);
COMMENT ON COLUMN voxbook.organizations.cancellation_notice_minutes IS
    'Callers (voice and SMS) may not cancel or reschedule within this many minutes of the appointment; staff may.';

ALTER TABLE voxbook.appointments ADD COLUMN cancelled_by text CHECK (length(cancelled_by) <= 200);
ALTER TABLE voxbook.appointments ADD COLUMN booked_by text CHECK (length(booked_by) <= 200);
COMMENT ON COLUMN voxbook.appointments.cancelled_by IS 'The staff member who cancelled it; NULL = the caller (or not cancelled).';
COMMENT ON COLUMN voxbook.appointments.booked_by IS 'The staff member who booked it for the patient; NULL = the caller.';

CREATE TABLE voxbook.audit_log (
    org_id     uuid NOT NULL,
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    at         timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL CHECK (length(changed_by) BETWEEN 1 AND 200),
    action     text NOT NULL CHECK (action ~ '^[a-z][a-z_]{0,62}$'),
    entity     text NOT NULL CHECK (entity IN ('clinic', 'provider', 'service', 'hours', 'hours_exception',
                                               'blocked_period', 'appointment')),
    entity_id  text,
    before     jsonb,
    after      jsonb,
    PRIMARY KEY (org_id, id)
);
CALL voxbook.distribute_if_citus('voxbook.audit_log');
ALTER TABLE voxbook.audit_log
    ADD FOREIGN KEY (org_id) REFERENCES voxbook.organizations (id) ON DELETE CASCADE;
CREATE INDEX audit_log_by_time ON voxbook.audit_log (org_id, at);
COMMENT ON TABLE voxbook.audit_log IS
    'Every change a person made to a clinic''s set-up or appointments through the api: who (changed_by: the '
    'argument, else the database user), when, what (action, entity, entity_id), and the row before and after '
    '(jsonb; NULL before = created, NULL after = removed). Written by internal.audit; read with api.list_audit.';
