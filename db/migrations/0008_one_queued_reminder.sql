-- One *queued* reminder per appointment, not one "queued or sending": a reminder whose send was
-- ambiguous when its appointment moved is reconciled (status sending) while the new one waits queued.
-- depends: 0001_core 0007_sms_speed

DROP INDEX voxbook.sms_outbox_one_pending_reminder;
CREATE UNIQUE INDEX sms_outbox_one_queued_reminder ON voxbook.sms_outbox (org_id, appointment_id)
    WHERE kind = 'reminder' AND status = 'queued';
