-- Replies by SMS (issue 15): a patient answers the confirmation or reminder text (db/functions/46_sms_replies.sql).
-- * appointments.patient_confirmed_at: the patient replied C (confirmed they will come); shown to staff.
-- * appointments.may_not_come_at: the patient texted CANCEL -- an opt-out word at the carrier, so no text reaches
--   them any more -- while this was their next appointment at the clinic: staff should call them.
-- * sms_inbox: every other reply (not a carrier keyword, C or R), per clinic, for staff to read and resolve
--   (api.list_sms_inbox, api.resolve_sms_inbox_item); forwarded to the front desk by one SMS (forwarded_sms_id).
--   Once per MessageSid and clinic.
-- New clinic table: created without keys, distributed at once when the database already is
-- (voxbook.distribute_if_citus, 0019), then given its keys.
-- depends: 0001_core 0019_time_zone_names 0024_booking_rules

ALTER TABLE voxbook.appointments ADD COLUMN patient_confirmed_at timestamptz;
COMMENT ON COLUMN voxbook.appointments.patient_confirmed_at IS
    'When the patient confirmed by SMS (replied C) that they will come; NULL: not confirmed by the patient.';
ALTER TABLE voxbook.appointments ADD COLUMN may_not_come_at timestamptz;
COMMENT ON COLUMN voxbook.appointments.may_not_come_at IS
    'When the patient texted CANCEL (a carrier opt-out word: they get no texts any more) while this was their next '
    'appointment: they may not come. NULL: no such sign.';

CREATE TABLE voxbook.sms_inbox (
    org_id           uuid NOT NULL,
    id               uuid NOT NULL DEFAULT gen_random_uuid(),
    message_sid      text CHECK (length(message_sid) BETWEEN 1 AND 64),
    phone            voxbook.e164 NOT NULL,
    body             text NOT NULL CHECK (length(body) <= 1600),
    appointment_id   uuid,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    forwarded_sms_id uuid,
    received_at      timestamptz NOT NULL DEFAULT now(),
    done_at          timestamptz,
    done_by          text CHECK (length(done_by) <= 200),
    PRIMARY KEY (org_id, id),
    CHECK ((status = 'done') = (done_at IS NOT NULL)),
    CHECK (status = 'open' OR done_by IS NOT NULL)
);
CALL voxbook.distribute_if_citus('voxbook.sms_inbox');
ALTER TABLE voxbook.sms_inbox
    ADD FOREIGN KEY (org_id) REFERENCES voxbook.organizations (id) ON DELETE CASCADE;
ALTER TABLE voxbook.sms_inbox
    ADD FOREIGN KEY (org_id, appointment_id) REFERENCES voxbook.appointments (org_id, id);
ALTER TABLE voxbook.sms_inbox
    ADD FOREIGN KEY (org_id, forwarded_sms_id) REFERENCES voxbook.sms_outbox (org_id, id);
-- A redelivered webhook finds the row made the first time (lookup column first, org_id in it: Citus).
ALTER TABLE voxbook.sms_inbox
    ADD CONSTRAINT sms_inbox_once_per_message UNIQUE (message_sid, org_id);
CREATE INDEX sms_inbox_open ON voxbook.sms_inbox (org_id, received_at DESC) WHERE status = 'open';
CREATE INDEX sms_inbox_by_phone ON voxbook.sms_inbox (org_id, phone, received_at DESC);
COMMENT ON TABLE voxbook.sms_inbox IS
    'Texts from patients that are not a carrier keyword nor a reply C/R (db/functions/46_sms_replies.sql): listed for '
    'staff (api.list_sms_inbox), closed by them (api.resolve_sms_inbox_item: status done, done_by), forwarded to the '
    'front desk by one SMS (forwarded_sms_id). Once per (message_sid, org_id).';
