-- appointments.confirmation_sms_sent/_id/_sent_at were written on every confirmation send and read by
-- nothing: the confirmation's state is its row in sms_outbox (api.get_appointment's "confirmation_sms",
-- the dashboard's schedule). One place for it; the copies go.
-- depends: 0001_core 0012_sms_guarantees

ALTER TABLE voxbook.appointments
    DROP COLUMN confirmation_sms_sent,
    DROP COLUMN confirmation_sms_id,
    DROP COLUMN confirmation_sms_sent_at;
