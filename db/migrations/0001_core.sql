-- voxbook core schema: private tables in schema voxbook.
-- Functions live in db/functions/ and are re-applied on every `voxbook db migrate`;
-- only table shapes, constraints and triggers belong in migrations.
-- depends:

CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pgcrypto;

DO $$
BEGIN
    -- The role the API and the worker log in as (or are members of). It only ever gets
    -- USAGE on schema api and EXECUTE on its functions (db/functions/99_grants.sql).
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'voxbook_api') THEN
        CREATE ROLE voxbook_api NOLOGIN;
    END IF;
END
$$;

CREATE SCHEMA voxbook;
REVOKE ALL ON SCHEMA voxbook FROM PUBLIC;
COMMENT ON SCHEMA voxbook IS
    'Private tables of voxbook. Nothing here is granted to the API role: call the functions in schema api.';

-- Phone numbers are stored in E.164 only; api functions normalise input before it gets here.
CREATE DOMAIN voxbook.e164 AS text CHECK (VALUE ~ '^\+[1-9][0-9]{7,14}$');

CREATE FUNCTION voxbook.is_time_zone(tz text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM now() AT TIME ZONE tz;
    RETURN tz ~ '/' OR tz = 'UTC';   -- IANA names only: no abbreviations or POSIX offsets like 'EST' or '+05'
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END
$$;

CREATE TABLE voxbook.organizations (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone                voxbook.e164 NOT NULL UNIQUE,
    time_zone            text NOT NULL CHECK (voxbook.is_time_zone(time_zone)),
    country_code         text NOT NULL DEFAULT '1' CHECK (country_code ~ '^[1-9][0-9]{0,2}$'),
    hold_minutes         int  NOT NULL DEFAULT 10 CHECK (hold_minutes BETWEEN 1 AND 60),
    code_length          int  NOT NULL DEFAULT 4  CHECK (code_length BETWEEN 4 AND 8),
    max_code_attempts    int  NOT NULL DEFAULT 3  CHECK (max_code_attempts BETWEEN 1 AND 10),
    max_code_sends       int  NOT NULL DEFAULT 3  CHECK (max_code_sends BETWEEN 1 AND 10),
    hot_lead_threshold   int  NOT NULL DEFAULT 70 CHECK (hot_lead_threshold BETWEEN 0 AND 100),
    hot_lead_alert_phone voxbook.e164,
    sms_from             voxbook.e164,
    min_notice_minutes   int  NOT NULL DEFAULT 60 CHECK (min_notice_minutes BETWEEN 0 AND 10080),
    booking_horizon_days int  NOT NULL DEFAULT 90 CHECK (booking_horizon_days BETWEEN 1 AND 730),
    reminder_hours       int  NOT NULL DEFAULT 24 CHECK (reminder_hours BETWEEN 1 AND 168),
    help_text            text,
    created_at           timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE voxbook.organizations IS 'Clinics. phone is the number callers dial; the Vapi adapter finds the clinic by it.';
COMMENT ON COLUMN voxbook.organizations.sms_from IS 'Sender number for SMS; NULL means the provider default (for example a Twilio Messaging Service).';
COMMENT ON COLUMN voxbook.organizations.country_code IS 'Calling code assumed for national numbers without +, e.g. 1 for (555) 123-4567.';

CREATE TABLE voxbook.calendars (
    org_id                   uuid NOT NULL REFERENCES voxbook.organizations (id) ON DELETE CASCADE,
    id                       text NOT NULL CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    display_name             text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    slot_minutes             int  NOT NULL DEFAULT 30 CHECK (slot_minutes BETWEEN 5 AND 240),
    default_duration_minutes int  NOT NULL DEFAULT 30 CHECK (default_duration_minutes BETWEEN 5 AND 480),
    active                   boolean NOT NULL DEFAULT true,
    PRIMARY KEY (org_id, id)
);
COMMENT ON TABLE voxbook.calendars IS 'Providers (Dr. Smith). Slots start every slot_minutes from the start of each working interval.';

CREATE TABLE voxbook.services (
    org_id           uuid NOT NULL REFERENCES voxbook.organizations (id) ON DELETE CASCADE,
    id               text NOT NULL CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    duration_minutes int  NOT NULL CHECK (duration_minutes BETWEEN 5 AND 480),
    price_cents      int  CHECK (price_cents >= 0),
    value_tier       text NOT NULL DEFAULT 'standard' CHECK (value_tier IN ('low', 'standard', 'high')),
    PRIMARY KEY (org_id, id)
);
COMMENT ON COLUMN voxbook.services.value_tier IS 'Drives lead scoring: a high-value service adds points (api.score_lead).';

CREATE TABLE voxbook.working_hours (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    org_id      uuid NOT NULL,
    calendar_id text NOT NULL,
    iso_dow     int  NOT NULL CHECK (iso_dow BETWEEN 1 AND 7),
    starts      time NOT NULL,
    ends        time NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, calendar_id) REFERENCES voxbook.calendars (org_id, id) ON DELETE CASCADE,
    CHECK (starts < ends),
    -- Several intervals a day (a lunch break splits the day in two), never overlapping.
    EXCLUDE USING gist (org_id WITH =, calendar_id WITH =, iso_dow WITH =,
                        tsrange(DATE '2000-01-01' + starts, DATE '2000-01-01' + ends) WITH &&)
);
COMMENT ON TABLE voxbook.working_hours IS 'Weekly working intervals per calendar in the clinic''s local wall-clock time (ISO day of week, 1 = Monday).';

CREATE TABLE voxbook.blocked_periods (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    org_id      uuid NOT NULL,
    calendar_id text NOT NULL,
    during      tstzrange NOT NULL CHECK (NOT isempty(during) AND NOT lower_inf(during) AND NOT upper_inf(during)),
    reason      text,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, calendar_id) REFERENCES voxbook.calendars (org_id, id) ON DELETE CASCADE
);
CREATE INDEX blocked_periods_lookup ON voxbook.blocked_periods USING gist (org_id, calendar_id, during);
COMMENT ON TABLE voxbook.blocked_periods IS 'Vacations, training days: no slot overlapping one is offered or claimable.';

CREATE TABLE voxbook.contacts (
    org_id               uuid NOT NULL REFERENCES voxbook.organizations (id) ON DELETE CASCADE,
    id                   uuid NOT NULL DEFAULT gen_random_uuid(),
    phone                voxbook.e164 NOT NULL,
    name                 text,
    booking_source       text CHECK (booking_source IN ('phone_ai', 'web', 'manual', 'import')),
    booking_completed_at timestamptz,
    last_booking_hold_id uuid,
    sms_opted_out        boolean NOT NULL DEFAULT false,
    sms_opted_out_at     timestamptz,
    sms_opt_out_source   text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, phone),
    CHECK (sms_opted_out = (sms_opted_out_at IS NOT NULL))
);

-- Holds are the ledger of claims on a calendar's time: a live hold ('held') and a confirmed
-- appointment's hold ('confirmed') are the active claims, and the exclusion constraint below
-- is what makes double booking impossible, whatever the application does.
CREATE TABLE voxbook.holds (
    org_id          uuid NOT NULL,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    calendar_id     text NOT NULL,
    service_id      text,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    call_sid        text,
    patient_name    text,
    patient_phone   voxbook.e164,
    status          text NOT NULL DEFAULT 'held'
                    CHECK (status IN ('held', 'confirmed', 'released', 'expired', 'cancelled', 'rescheduled')),
    expires_at      timestamptz NOT NULL,
    otp_hash        bytea,
    otp_salt        bytea,
    otp_attempts    int NOT NULL DEFAULT 0,
    otp_sends       int NOT NULL DEFAULT 0,
    otp_sent_at     timestamptz,
    otp_verified_at timestamptz,
    release_reason  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, calendar_id) REFERENCES voxbook.calendars (org_id, id),
    FOREIGN KEY (org_id, service_id) REFERENCES voxbook.services (org_id, id),
    CHECK (starts_at < ends_at),
    CHECK ((otp_hash IS NULL) = (otp_salt IS NULL)),
    CONSTRAINT holds_no_overlap EXCLUDE USING gist (
        org_id WITH =, calendar_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&
    ) WHERE (status IN ('held', 'confirmed'))
);
CREATE INDEX holds_by_call ON voxbook.holds (org_id, call_sid) WHERE call_sid IS NOT NULL;
CREATE INDEX holds_live_expiry ON voxbook.holds (expires_at) WHERE status = 'held';
COMMENT ON TABLE voxbook.holds IS
    'Claims on calendar time. status held = live hold until expires_at; confirmed = an appointment''s time. '
    'holds_no_overlap forbids two active claims overlapping on one calendar.';
COMMENT ON COLUMN voxbook.holds.otp_hash IS 'sha256(otp_salt || code); the plain code is never stored here.';

ALTER TABLE voxbook.contacts
    ADD FOREIGN KEY (org_id, last_booking_hold_id) REFERENCES voxbook.holds (org_id, id);

CREATE TABLE voxbook.appointments (
    org_id                   uuid NOT NULL,
    id                       uuid NOT NULL DEFAULT gen_random_uuid(),
    hold_id                  uuid NOT NULL,
    contact_id               uuid NOT NULL,
    service_id               text,
    call_sid                 text,
    status                   text NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed', 'cancelled')),
    confirmed_via            text NOT NULL CHECK (confirmed_via IN ('otp', 'staff')),
    confirmed_by             text,
    otp_verified             boolean NOT NULL DEFAULT false,
    otp_verified_at          timestamptz,
    confirmation_sms_sent    boolean NOT NULL DEFAULT false,
    confirmation_sms_id      text,
    confirmation_sms_sent_at timestamptz,
    cancelled_at             timestamptz,
    cancel_reason            text,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, hold_id),
    FOREIGN KEY (org_id, hold_id) REFERENCES voxbook.holds (org_id, id),
    FOREIGN KEY (org_id, contact_id) REFERENCES voxbook.contacts (org_id, id),
    FOREIGN KEY (org_id, service_id) REFERENCES voxbook.services (org_id, id),
    CHECK (otp_verified = (otp_verified_at IS NOT NULL)),
    -- Guarantee 2: an appointment exists only through a verified code or a named staff member.
    CHECK (CASE confirmed_via WHEN 'otp' THEN otp_verified ELSE confirmed_by IS NOT NULL END),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX appointments_by_call ON voxbook.appointments (org_id, call_sid) WHERE call_sid IS NOT NULL;
COMMENT ON TABLE voxbook.appointments IS
    'Confirmed bookings. The time is that of the hold (hold_id); a reschedule points hold_id at a new hold.';

-- The outbox: every SMS is a row inserted in the same transaction as the change it announces.
CREATE TABLE voxbook.sms_outbox (
    org_id              uuid NOT NULL REFERENCES voxbook.organizations (id) ON DELETE CASCADE,
    id                  uuid NOT NULL DEFAULT gen_random_uuid(),
    kind                text NOT NULL
                        CHECK (kind IN ('otp', 'confirmation', 'reminder', 'cancellation', 'reschedule', 'hot_lead', 'other')),
    appointment_id      uuid,
    hold_id             uuid,
    recipient           voxbook.e164 NOT NULL,
    sender              voxbook.e164,
    body                text NOT NULL CHECK (length(body) BETWEEN 1 AND 1600),
    redact_after_send   boolean NOT NULL DEFAULT false,
    encoding            text NOT NULL CHECK (encoding IN ('GSM-7', 'UCS-2')),
    segments            int  NOT NULL CHECK (segments >= 1),
    status              text NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed',
                                          'cancelled', 'skipped')),
    send_after          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz,
    attempts            int  NOT NULL DEFAULT 0,
    max_attempts        int  NOT NULL DEFAULT 5,
    locked_by           text,
    locked_at           timestamptz,
    provider_message_id text UNIQUE,
    error_code          text,
    error_message       text,
    skip_reason         text,
    sent_at             timestamptz,
    delivered_at        timestamptz,
    status_updated_at   timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, appointment_id) REFERENCES voxbook.appointments (org_id, id),
    FOREIGN KEY (org_id, hold_id) REFERENCES voxbook.holds (org_id, id)
);
CREATE INDEX sms_outbox_due ON voxbook.sms_outbox (send_after) WHERE status = 'queued';
CREATE INDEX sms_outbox_by_appointment ON voxbook.sms_outbox (org_id, appointment_id, created_at DESC)
    WHERE appointment_id IS NOT NULL;
CREATE INDEX sms_outbox_by_org ON voxbook.sms_outbox (org_id, created_at DESC);
-- Never a second confirmation for one appointment (a failed one may be replaced), never two pending reminders.
CREATE UNIQUE INDEX sms_outbox_one_confirmation ON voxbook.sms_outbox (org_id, appointment_id)
    WHERE kind = 'confirmation' AND status <> 'failed';
CREATE UNIQUE INDEX sms_outbox_one_pending_reminder ON voxbook.sms_outbox (org_id, appointment_id)
    WHERE kind = 'reminder' AND status IN ('queued', 'sending');
COMMENT ON TABLE voxbook.sms_outbox IS
    'Every SMS voxbook sends or skipped, with its delivery state. Rows are inserted by api functions in the '
    'transaction of the change they announce; a NOTIFY on channel voxbook_sms wakes the worker.';
COMMENT ON COLUMN voxbook.sms_outbox.redact_after_send IS
    'One-time codes: the body keeps the plain code only until the message is handed to the provider.';

CREATE FUNCTION voxbook.notify_sms_outbox() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    -- A wake-up only: the payload is empty so that PostgreSQL folds every NOTIFY of one transaction
    -- into one; the worker reads the outbox itself (and also polls, so a missed NOTIFY is harmless).
    PERFORM pg_notify('voxbook_sms', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER sms_outbox_notify
    AFTER INSERT OR UPDATE OF status, send_after ON voxbook.sms_outbox
    FOR EACH ROW WHEN (NEW.status = 'queued' AND NEW.send_after <= now())
    EXECUTE FUNCTION voxbook.notify_sms_outbox();

CREATE TABLE voxbook.calls (
    org_id             uuid NOT NULL REFERENCES voxbook.organizations (id) ON DELETE CASCADE,
    id                 uuid NOT NULL DEFAULT gen_random_uuid(),
    vapi_call_id       text NOT NULL CHECK (length(vapi_call_id) BETWEEN 1 AND 200),
    provider_call_sid  text,
    customer_phone     voxbook.e164,
    customer_name      text,
    started_at         timestamptz,
    ended_at           timestamptz,
    duration_seconds   int CHECK (duration_seconds >= 0),
    ended_reason       text,
    transcript         text,
    summary            text,
    structured_data    jsonb NOT NULL DEFAULT '{}',
    success_evaluation text,
    appointment_id     uuid,
    service_id         text,
    lead_score         int CHECK (lead_score BETWEEN 0 AND 100),
    score_reasons      jsonb NOT NULL DEFAULT '[]',
    is_hot             boolean NOT NULL DEFAULT false,
    received_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, vapi_call_id),
    FOREIGN KEY (org_id, appointment_id) REFERENCES voxbook.appointments (org_id, id)
);
COMMENT ON TABLE voxbook.calls IS 'One row per Vapi call, written once from its end-of-call-report, with its lead score.';

CREATE TABLE voxbook.hot_lead_alerts (
    org_id          uuid NOT NULL,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    call_id         uuid NOT NULL,
    score           int  NOT NULL,
    sms_id          uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, call_id),
    FOREIGN KEY (org_id, call_id) REFERENCES voxbook.calls (org_id, id),
    FOREIGN KEY (org_id, sms_id) REFERENCES voxbook.sms_outbox (org_id, id)
);
CREATE INDEX hot_lead_alerts_recent ON voxbook.hot_lead_alerts (org_id, created_at DESC);
