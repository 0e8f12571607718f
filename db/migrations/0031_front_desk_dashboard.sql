-- The front desk's dashboard (issue 16): what staff do from the browser (db/functions/72_desk.sql).
-- * appointments.attendance: the desk marks a patient arrived or a no-show (attendance_at, attendance_by: who);
--   NULL = not marked (or the mark undone).
-- * sms_outbox.resent_from: a message staff resent is a new row naming the one it resends. UNIQUE per original:
--   a message is resent once (a double click, two desks at once: one new text). The one-live-confirmation index
--   leaves resends out (the original, undelivered or skipped, still counts there): api.resend_sms refuses a
--   resend while another message of that kind of the appointment is queued or out, under the appointment's lock.
-- * audit_log.entity gains 'sms' (a resend) and 'waitlist' (staff took a patient off the list).
-- * appointments_changed: the newest change of a clinic's appointments in one index probe, for the dashboard's
--   change marker (api.dashboard_changes): live updates poll this instead of a NOTIFY on the booking path.
-- depends: 0001_core 0023_clinic_setup 0028_sms_replies 0029_waitlist

ALTER TABLE voxbook.appointments ADD COLUMN attendance text;
ALTER TABLE voxbook.appointments ADD CONSTRAINT appointments_attendance_check
    CHECK (attendance IN ('arrived', 'no_show'));
ALTER TABLE voxbook.appointments ADD COLUMN attendance_at timestamptz;
ALTER TABLE voxbook.appointments ADD COLUMN attendance_by text;
ALTER TABLE voxbook.appointments ADD CONSTRAINT appointments_attendance_by_check
    CHECK (length(attendance_by) BETWEEN 1 AND 200);
ALTER TABLE voxbook.appointments ADD CONSTRAINT appointments_attendance_marked
    CHECK ((attendance IS NULL) = (attendance_at IS NULL));
COMMENT ON COLUMN voxbook.appointments.attendance IS
    'Marked by the front desk (api.mark_attendance): arrived | no_show; NULL = not marked. attendance_at/_by: when and who.';

ALTER TABLE voxbook.sms_outbox ADD COLUMN resent_from uuid;
COMMENT ON COLUMN voxbook.sms_outbox.resent_from IS
    'Staff resent a failed, undelivered or skipped message (api.resend_sms): the id of that message. Each is resent once.';
CREATE UNIQUE INDEX sms_outbox_resent_once ON voxbook.sms_outbox (org_id, resent_from) WHERE resent_from IS NOT NULL;
DROP INDEX voxbook.sms_outbox_one_confirmation;
CREATE UNIQUE INDEX sms_outbox_one_confirmation ON voxbook.sms_outbox (org_id, appointment_id)
    WHERE kind = 'confirmation' AND status <> 'failed' AND resent_from IS NULL;

ALTER TABLE voxbook.audit_log DROP CONSTRAINT audit_log_entity_check;
ALTER TABLE voxbook.audit_log ADD CONSTRAINT audit_log_entity_check
    CHECK (entity IN ('clinic', 'provider', 'service', 'hours', 'hours_exception', 'blocked_period', 'appointment',
                      'sms', 'waitlist'));

CREATE INDEX appointments_changed ON voxbook.appointments (org_id, updated_at);
