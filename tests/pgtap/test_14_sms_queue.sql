-- db/functions/14_sms_queue.sql and 15_appointment_sms.sql: the one copy of each outbox rule -- what a
-- settled message keeps of its body, how an unsent code dies, how an appointment message is made.
BEGIN;
SELECT plan(9);

SELECT is(internal.settled_body('123456 is your code', true), '**** is your code', 'a code''s digits are redacted');
SELECT is(internal.settled_body('Call 5551234', false), 'Call 5551234', 'any other message keeps its body');

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Queue Clinic') AS org;
CREATE TEMP TABLE h AS
SELECT (api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 09:00'),
                              'call-q', 'Quinn', '+15551410001')->>'hold_id')::uuid AS id;
SELECT is(api.send_otp_code((SELECT id FROM h), (SELECT org FROM ctx))->>'success', 'true', 'a code is queued');
CREATE TEMP TABLE first_code AS SELECT tests.code_of((SELECT id FROM h)) AS code;
SELECT is(internal.cancel_unsent_codes((SELECT org FROM ctx), (SELECT id FROM h), 'test reason'), 1, 'the unsent code is cancelled');
SELECT is((SELECT m.status || '/' || m.skip_reason || '/' || (position((SELECT code FROM first_code) IN m.body) = 0)::text
             FROM voxbook.sms_outbox AS m WHERE m.hold_id = (SELECT id FROM h)),
          'cancelled/test reason/true', '... with its reason, and its digits gone');
SELECT is(internal.cancel_unsent_codes((SELECT org FROM ctx), (SELECT id FROM h), 'again'), 0, 'nothing is left to cancel');

CREATE TEMP TABLE appt AS
SELECT (api.confirm_held_slot((api.claim_slot_atomic((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-16 09:00'),
                                                     'call-r', 'Rae', '+15551410002')->>'hold_id')::uuid,
                              (SELECT org FROM ctx), staff_user => 'desk')->>'appointment_id')::uuid AS id;
CREATE TEMP TABLE m AS SELECT (internal.queue_appointment_sms((SELECT org FROM ctx), (SELECT id FROM appt), 'cancellation',
                                                             send_after => '2030-01-15 14:00:00+00')).*;
SELECT is((SELECT recipient::text || '/' || kind || '/' || appointment_id::text FROM m),
          '+15551410002/cancellation/' || (SELECT id FROM appt), 'an appointment message goes to its patient, linked to it');
SELECT is((SELECT body FROM m),
          'Your appointment on Wed, Jan 16 at 9:00 AM with Dr. Baker is cancelled. Queue Clinic, ' ||
          (SELECT internal.display_phone(o.phone) FROM voxbook.organizations AS o WHERE o.id = (SELECT org FROM ctx)) ||
          '. Call to book again. Reply STOP to unsubscribe.', 'rendered from the appointment');
SELECT is((SELECT send_after FROM m), '2030-01-15 14:00:00+00'::timestamptz, 'when it is due');

SELECT * FROM finish();
ROLLBACK;
