-- A waitlist that fills freed times (issue 15).
-- * waitlist: a caller for whom no time fitted asks to be told when one frees up: a service (NULL: the
--   clinic's default length), a provider (NULL: any), a window of local days (first_day..last_day) and local
--   times of day (from_time..to_time, the clinic's zone), the caller's trusted number and language. First come
--   first served (created_at). status: waiting -> booked (an offer taken) | removed (staff or the patient) |
--   expired (its last day passed).
-- * waitlist_offers: a free time offered by SMS to a waiting patient, with a short reply window (expires_at).
--   The same time goes to at most a few patients at once (api.offer_waitlist_openings); the first reply that
--   takes it (BOOK or 1) wins through the same atomic claim as every booking (api.claim_slot_atomic), the
--   others are told it is gone (status lost) and stay on the list for the next time. UNIQUE (entry, time):
--   a time is offered to a patient once.
-- * appointments.confirmed_via gains 'waitlist': the patient's reply from the very number the offer was texted
--   to is the verification (confirmed_by names the reply, "sms reply <MessageSid>"), alongside 'otp' and 'staff'.
-- New clinic tables: created without keys, distributed at once when the database already is
-- (voxbook.distribute_if_citus, 0019), then given their keys.
-- depends: 0001_core 0019_time_zone_names 0024_booking_rules

CREATE TABLE voxbook.waitlist (
    org_id         uuid NOT NULL,
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    service_id     text,
    calendar_id    text,
    first_day      date NOT NULL,
    last_day       date NOT NULL,
    from_time      time NOT NULL DEFAULT '00:00',
    to_time        time NOT NULL DEFAULT '23:59',
    patient_name   text CHECK (length(patient_name) <= 200),
    phone          voxbook.e164 NOT NULL,
    locale         text CHECK (locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$'),
    vapi_call_id   text CHECK (length(vapi_call_id) <= 200),
    status         text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'booked', 'removed', 'expired')),
    appointment_id uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    CHECK (first_day <= last_day AND last_day - first_day <= 62),
    CHECK (from_time < to_time),
    CHECK ((status = 'booked') = (appointment_id IS NOT NULL))
);
CALL voxbook.distribute_if_citus('voxbook.waitlist');
ALTER TABLE voxbook.waitlist
    ADD FOREIGN KEY (org_id) REFERENCES voxbook.organizations (id) ON DELETE CASCADE;
ALTER TABLE voxbook.waitlist
    ADD FOREIGN KEY (org_id, appointment_id) REFERENCES voxbook.appointments (org_id, id);
-- One live entry per call (a redelivered join_waitlist finds it); entries without a call are never merged.
ALTER TABLE voxbook.waitlist
    ADD CONSTRAINT waitlist_once_per_call UNIQUE (org_id, vapi_call_id);
CREATE INDEX waitlist_waiting ON voxbook.waitlist (org_id, created_at) WHERE status = 'waiting';
CREATE INDEX waitlist_phone ON voxbook.waitlist (org_id, phone);
COMMENT ON TABLE voxbook.waitlist IS
    'Patients waiting for a time to free up: service, provider (NULL: any), local days first_day..last_day and local '
    'times from_time..to_time; first come first served. Offered freed times by SMS (waitlist_offers).';

CREATE TABLE voxbook.waitlist_offers (
    org_id         uuid NOT NULL,
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    entry_id       uuid NOT NULL,
    calendar_id    text NOT NULL,
    service_id     text,
    starts_at      timestamptz NOT NULL,
    phone          voxbook.e164 NOT NULL,
    status         text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'accepted', 'lost', 'expired')),
    expires_at     timestamptz NOT NULL,
    sms_id         uuid,
    appointment_id uuid,
    answer_sid     text CHECK (length(answer_sid) <= 64),
    created_at     timestamptz NOT NULL DEFAULT now(),
    answered_at    timestamptz,
    PRIMARY KEY (org_id, id),
    CHECK ((status = 'accepted') = (appointment_id IS NOT NULL))
);
CALL voxbook.distribute_if_citus('voxbook.waitlist_offers');
ALTER TABLE voxbook.waitlist_offers
    ADD FOREIGN KEY (org_id) REFERENCES voxbook.organizations (id) ON DELETE CASCADE;
ALTER TABLE voxbook.waitlist_offers
    ADD FOREIGN KEY (org_id, entry_id) REFERENCES voxbook.waitlist (org_id, id) ON DELETE CASCADE;
ALTER TABLE voxbook.waitlist_offers
    ADD FOREIGN KEY (org_id, appointment_id) REFERENCES voxbook.appointments (org_id, id);
ALTER TABLE voxbook.waitlist_offers
    ADD FOREIGN KEY (org_id, sms_id) REFERENCES voxbook.sms_outbox (org_id, id);
ALTER TABLE voxbook.waitlist_offers
    ADD CONSTRAINT waitlist_offers_once UNIQUE (org_id, entry_id, calendar_id, starts_at);
CREATE INDEX waitlist_offers_live ON voxbook.waitlist_offers (org_id, phone) WHERE status = 'sent';
COMMENT ON TABLE voxbook.waitlist_offers IS
    'A freed time offered by SMS to a waitlisted patient until expires_at; the first BOOK/1 reply among those offered '
    'it books it (accepted, appointment_id), the others are told it is gone (lost).';

ALTER TABLE voxbook.appointments DROP CONSTRAINT appointments_confirmed_via_check;
ALTER TABLE voxbook.appointments ADD CONSTRAINT appointments_confirmed_via_check
    CHECK (confirmed_via IN ('otp', 'staff', 'waitlist'));
COMMENT ON COLUMN voxbook.appointments.confirmed_via IS
    'How the patient was verified: otp (a code texted to the number), staff (confirmed_by: who), waitlist (a reply '
    'from the number a waitlist offer was texted to; confirmed_by: "sms reply <MessageSid>").';
