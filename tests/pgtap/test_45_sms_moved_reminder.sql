-- A reminder whose send was ambiguous (unknown) when its appointment moved must not go out with the old time.
-- The api calls run as the API role (voxbook_api); set-up and direct table reads and writes as the owner.
BEGIN;
SELECT plan(4);

CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Moved Clinic') AS org;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE appt AS
SELECT (api.confirm_held_slot((api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a',
            tests.at((SELECT org FROM ctx), (current_date + 9) + time '10:00'), 'm1', 'Kim', '+15550003007')->>'hold_id')::uuid,
        (SELECT org FROM ctx), staff_user => 'front desk')->>'appointment_id')::uuid AS id;
RESET ROLE;
CREATE TEMP TABLE old_reminder AS
SELECT m.id FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT id FROM appt) AND m.kind = 'reminder';
-- A worker sent it, the answer never came: Twilio may or may not have it.
UPDATE voxbook.sms_outbox SET status = 'unknown', attempts = 1, first_attempt_at = now() - interval '5 minutes',
                              send_after = now() - interval '1 second'
 WHERE id = (SELECT id FROM old_reminder);
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
-- Meanwhile the patient moves the appointment.
SELECT is(api.reschedule_appointment((SELECT id FROM appt), (SELECT org FROM ctx),
                                     tests.at((SELECT org FROM ctx), (current_date + 10) + time '14:00'))->>'success',
          'true', 'the appointment moves');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m
            WHERE m.appointment_id = (SELECT id FROM appt) AND m.kind = 'reminder' AND m.status = 'queued'),
          1::bigint, 'a reminder for the new time is queued');

SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE claimed AS
SELECT x AS msg FROM jsonb_array_elements(api.claim_sms_batch('w-moved', 1000, 60)->'messages') AS x
 WHERE (x->>'message_id')::uuid = (SELECT id FROM old_reminder);
SELECT is((SELECT msg->>'resend' FROM claimed), 'false', 'the old reminder is only looked up at the provider, never re-sent');
SELECT is((SELECT msg->>'resend_blocked' FROM claimed), 'appointment moved', '... because its appointment moved');

SELECT * FROM finish();
ROLLBACK;
