-- After confirmation: the confirmation tool, cancel and reschedule, and the reminder following them.
-- The api calls run as the API role (voxbook_api); set-up and direct table reads and writes as the owner.
BEGIN;
SELECT plan(23);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Appt Clinic') AS org;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE appt AS
SELECT n, (api.confirm_held_slot(
              (api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 09:00') + (n - 1) * interval '1 hour',
                                     'call-' || n, 'Pat ' || n, '+1555401000' || n, service => 'cleaning')->>'hold_id')::uuid,
              (SELECT org FROM ctx), staff_user => 'desk')->>'appointment_id')::uuid AS id
  FROM generate_series(1, 3) AS n;

SELECT is((SELECT count(*) FROM appt WHERE id IS NOT NULL), 3::bigint, 'three appointments (9, 10, 11 AM, one hour each)');

-- send_confirmation_sms: report, never a second one
CREATE TEMP TABLE conf AS SELECT api.send_confirmation_sms((SELECT id FROM appt WHERE n = 1), (SELECT org FROM ctx)) AS j;
SELECT is((SELECT j->>'status' FROM conf), 'queued', 'the confirmation tool reports the queued confirmation');
SELECT is(api.send_confirmation_sms((SELECT id FROM appt WHERE n = 1), (SELECT org FROM ctx))->>'message_id', (SELECT j->>'message_id' FROM conf),
          'calling it again reports the same message');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT id FROM appt WHERE n = 1) AND m.kind = 'confirmation'),
          1::bigint, 'there is exactly one confirmation');
-- (the ids as literals: an INSERT ... SELECT from a temp table goes through the coordinator on Citus, which
-- reports the shard's unique violation as XX000; a plain INSERT is routed to the shard and keeps its 23505)
SELECT throws_ok(format($$INSERT INTO voxbook.sms_outbox (org_id, kind, appointment_id, recipient, body, encoding, segments)
                          VALUES (%L, 'confirmation', %L, '+15554010001', 'again', 'GSM-7', 1)$$,
                        (SELECT org FROM ctx), (SELECT id FROM appt WHERE n = 1)),
                 '23505', NULL, 'even a direct insert of a second confirmation is refused by the database');
UPDATE voxbook.sms_outbox SET status = 'failed' WHERE id = (SELECT (j->>'message_id')::uuid FROM conf);
SET LOCAL ROLE voxbook_api;
SELECT isnt(api.send_confirmation_sms((SELECT id FROM appt WHERE n = 1), (SELECT org FROM ctx))->>'message_id', (SELECT j->>'message_id' FROM conf),
            'only a failed confirmation is replaced by a new one');

-- cancel
CREATE TEMP TABLE cancelled AS SELECT api.cancel_appointment((SELECT id FROM appt WHERE n = 2), (SELECT org FROM ctx), 'patient is ill') AS j;
SELECT is((SELECT j->>'status' FROM cancelled), 'cancelled', 'an appointment is cancelled');
RESET ROLE;
SELECT is((SELECT m.status FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT id FROM appt WHERE n = 2) AND m.kind = 'reminder'),
          'cancelled', 'its pending reminder is cancelled');
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT id FROM appt WHERE n = 2) AND m.kind = 'cancellation' AND m.status = 'queued'),
          1::bigint, 'the patient is told by SMS');
SET LOCAL ROLE voxbook_api;
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 10:00'), 'call-9', 'New', '+15554019999')->>'success',
          'true', 'its time is free again at once');
SELECT is(api.cancel_appointment((SELECT id FROM appt WHERE n = 2), (SELECT org FROM ctx))->>'message', 'Appointment was already cancelled',
          'cancelling twice is harmless');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT id FROM appt WHERE n = 2) AND m.kind = 'cancellation'),
          1::bigint, '... and sends nothing more');
SET LOCAL ROLE voxbook_api;
SELECT throws_ok($$SELECT api.cancel_appointment((SELECT id FROM appt WHERE n = 3), (SELECT org FROM ctx), patient_phone => '+15554010001')$$,
                 'VB404', 'unknown appointment', 'a caller cannot cancel somebody else''s appointment');

-- reschedule
SELECT is(api.reschedule_appointment((SELECT id FROM appt WHERE n = 3), (SELECT org FROM ctx), tests.at((SELECT org FROM ctx), '2030-01-16 09:00'))->>'code',
          'slot_taken', 'rescheduling onto a taken time is refused');
RESET ROLE;
SELECT is((SELECT h.starts_at FROM voxbook.appointments AS a JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
            WHERE a.org_id = (SELECT org FROM ctx) AND a.id = (SELECT id FROM appt WHERE n = 3)),
          tests.at((SELECT org FROM ctx), '2030-01-16 11:00'), '... and the appointment keeps its time');
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE moved AS
    SELECT api.reschedule_appointment((SELECT id FROM appt WHERE n = 3), (SELECT org FROM ctx), tests.at((SELECT org FROM ctx), '2030-01-16 11:00') - interval '30 minutes') AS j;
SELECT is((SELECT j->>'local_time' FROM moved), 'Wed, Jan 16 at 10:30 AM',
          'a move overlapping the old time works (the old time is freed in the same transaction)');
SELECT is((SELECT (j->>'ends_at')::timestamptz - (j->>'starts_at')::timestamptz FROM moved), interval '1 hour', 'the duration is kept');
RESET ROLE;
SELECT is((SELECT m.send_after FROM voxbook.sms_outbox AS m
            WHERE m.appointment_id = (SELECT id FROM appt WHERE n = 3) AND m.kind = 'reminder' AND m.status = 'queued'),
          tests.at((SELECT org FROM ctx), '2030-01-15 10:30'), 'the pending reminder follows the appointment');
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT id FROM appt WHERE n = 3) AND m.kind = 'reminder'),
          2::bigint, '... the old one cancelled, one new');
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT id FROM appt WHERE n = 3) AND m.kind = 'reschedule'),
          1::bigint, 'the patient is told about the move');
SET LOCAL ROLE voxbook_api;
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 11:30'), 'call-10', 'New', '+15554019998')->>'success',
          'true', 'the part of the old time no longer covered is free');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.holds AS h WHERE h.org_id = (SELECT org FROM ctx) AND h.status = 'rescheduled'),
          1::bigint, 'the old hold stays as history');

SELECT throws_ok($$DELETE FROM voxbook.services WHERE org_id = (SELECT org FROM ctx) AND id = 'cleaning'$$,
                 '23503', 'service cleaning is referred to by holds or appointments',
                 'a service that bookings refer to cannot be deleted');

SELECT * FROM finish();
ROLLBACK;
