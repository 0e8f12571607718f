-- The clinic's rules after booking (issue 14): the cancellation notice on the voice path (refused politely, in
-- English and Spanish) and its staff override (recorded, audited); reschedules keep buffers and providers; a
-- hold cannot be confirmed as a service needing more buffer than it keeps; two people on one phone number.
-- Set-up as the owner, the api calls as the API role; Citus: clinic ids from the temp table ctx.
BEGIN;
SELECT plan(34);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');   -- Monday, 07:00 in New York
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Notice Clinic') AS org;
SELECT tests.set_clinic((SELECT org FROM ctx), 'cancellation_notice_minutes = 2880, languages = ''{en,es}''');   -- 48 hours
UPDATE voxbook.services AS s SET buffer_after_minutes = 15 FROM ctx WHERE s.org_id = ctx.org AND s.id = 'cleaning';
INSERT INTO voxbook.service_providers (org_id, service_id, calendar_id) SELECT ctx.org, 'teeth-whitening', 'cal-a' FROM ctx;
-- A confirmed appointment (claim + staff confirmation), its id.
CREATE FUNCTION pg_temp.book(org uuid, cal text, at timestamptz, who text, phone text, service text DEFAULT NULL)
    RETURNS uuid LANGUAGE plpgsql AS $$
BEGIN
    RETURN (api.confirm_held_slot((api.claim_slot_atomic(org, cal, at, NULL, who, phone, service => service)->>'hold_id')::uuid,
                                  org, staff_user => 'desk')->>'appointment_id')::uuid;
END
$$;
SELECT tests.share_with_api();
GRANT EXECUTE ON FUNCTION pg_temp.book(uuid, text, timestamptz, text, text, text) TO voxbook_api;
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE appt AS
SELECT 'soon'::text AS k, pg_temp.book((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 10:00'),
                                       'Ann Lee', '+15553030001') AS id
UNION ALL
SELECT 'soon2', pg_temp.book((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 11:00'),
                             'Ann Lee', '+15553030001')
UNION ALL
SELECT 'later', pg_temp.book((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-20 10:00'),
                             'Ann Lee', '+15553030001', 'cleaning')
UNION ALL
SELECT 'child', pg_temp.book((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-20 10:00'),
                             'Mia Lee', '+1 555 303 0001');
SELECT is((SELECT count(*) FROM appt WHERE id IS NOT NULL), 4::bigint, 'four appointments');

-- ---- Cancellation notice: the caller is refused politely within it ----
CREATE TEMP TABLE refused AS
    SELECT api.cancel_appointment((SELECT id FROM appt WHERE k = 'soon'), (SELECT org FROM ctx), 'cannot come',
                                  patient_phone => '+15553030001') AS j;
SELECT is((SELECT j->>'code' FROM refused), 'within_notice', 'a caller cancelling within the 48-hour notice is refused');
SELECT is((SELECT j->>'error' FROM refused),
          'The appointment is less than 48 hours away, too close to change it by phone; the front desk can still help',
          '... with a sentence from the message catalogue');
SELECT is((SELECT (j->>'notice_minutes')::int FROM refused), 2880, '... and the notice');
SELECT is(api.get_appointment((SELECT id FROM appt WHERE k = 'soon'), (SELECT org FROM ctx))->>'status', 'confirmed',
          'nothing changed');
SELECT is(api.reschedule_appointment((SELECT id FROM appt WHERE k = 'soon'), (SELECT org FROM ctx),
                                     tests.at((SELECT org FROM ctx), '2030-01-22 10:00'), patient_phone => '+15553030001')->>'code',
          'within_notice', 'moving it within the notice is refused too');
-- the voice path: run_tool_call, the assistant's line, English and Spanish
SELECT is(api.run_tool_call((SELECT org FROM ctx), 'tc-n1', 'cancel_appointment', 'cancel_appointment',
                            jsonb_build_object('appointment_id', (SELECT id FROM appt WHERE k = 'soon'),
                                               'patient_phone', '+15553030001'), 'call-n')#>>'{response,spoken}',
          'That appointment is too close to change on this call; the front desk can still help you with it.',
          'the assistant says so (voice path)');
SELECT is(api.run_tool_call((SELECT org FROM ctx), 'tc-n2', 'reschedule_appointment', 'reschedule_appointment',
                            jsonb_build_object('appointment_id', (SELECT id FROM appt WHERE k = 'soon'),
                                               'slot_time', tests.at((SELECT org FROM ctx), '2030-01-22 10:00'),
                                               'patient_phone', '+15553030001', 'language', 'es'), 'call-n-es')#>>'{response,spoken}',
          'Esa cita está demasiado próxima para cambiarla en esta llamada; la recepción todavía puede ayudarle.',
          '... in Spanish to a Spanish-speaking caller');
SELECT throws_ok($$SELECT api.run_tool_call((SELECT org FROM ctx), 'tc-n3', 'cancel_appointment', 'cancel_appointment',
                                            jsonb_build_object('appointment_id', (SELECT id FROM appt WHERE k = 'soon'),
                                                               'staff_user', 'me'))$$,
                 'VB400', 'args must not contain staff_user', 'a tool call cannot claim to be staff');
SELECT is(api.get_appointment((SELECT id FROM appt WHERE k = 'soon'), (SELECT org FROM ctx))->>'status', 'confirmed',
          'still confirmed');
-- beyond the notice the caller may
SELECT is(api.reschedule_appointment((SELECT id FROM appt WHERE k = 'later'), (SELECT org FROM ctx),
                                     tests.at((SELECT org FROM ctx), '2030-01-21 10:00'), patient_phone => '+15553030001')->>'message',
          'Appointment moved', 'an appointment beyond the notice is moved by the caller');

-- ---- Staff override: recorded and audited ----
CREATE TEMP TABLE staff_cancel AS
    SELECT api.cancel_appointment((SELECT id FROM appt WHERE k = 'soon'), (SELECT org FROM ctx), 'called the desk',
                                  staff_user => 'Rita at the desk') AS j;
SELECT is((SELECT j->>'status' FROM staff_cancel), 'cancelled', 'staff cancel within the notice');
CREATE TEMP TABLE staff_move AS
    SELECT api.reschedule_appointment((SELECT id FROM appt WHERE k = 'soon2'), (SELECT org FROM ctx),
                                      tests.at((SELECT org FROM ctx), '2030-01-15 14:00'), staff_user => 'Rita at the desk') AS j;
SELECT is((SELECT j->>'message' FROM staff_move), 'Appointment moved', 'staff move within the notice');
RESET ROLE;
SELECT is((SELECT a.cancelled_by FROM voxbook.appointments AS a WHERE a.id = (SELECT id FROM appt WHERE k = 'soon')),
          'Rita at the desk', 'who cancelled is on the appointment');
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m
            WHERE m.appointment_id = (SELECT id FROM appt WHERE k = 'soon') AND m.kind = 'cancellation'),
          1::bigint, 'the patient is texted as usual');
SELECT is((SELECT array_agg(l.action || ':' || l.changed_by || ':' || (l.before->>'status') || '>' || (l.after->>'status')
                            ORDER BY l.action)
             FROM voxbook.audit_log AS l WHERE l.org_id = (SELECT org FROM ctx) AND l.entity = 'appointment'),
          ARRAY['cancel_appointment:Rita at the desk:confirmed>cancelled',
                'reschedule_appointment:Rita at the desk:confirmed>confirmed'],
          'both staff changes are in the audit log, with who and before/after');
SELECT is((SELECT l.after->>'starts_at' FROM voxbook.audit_log AS l
            WHERE l.org_id = (SELECT org FROM ctx) AND l.action = 'reschedule_appointment'),
          (SELECT to_char(tests.at(ctx.org, '2030-01-15 14:00') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM ctx),
          '... the move with its new time');
SELECT is((SELECT count(*) FROM voxbook.audit_log AS l
            WHERE l.org_id = (SELECT org FROM ctx) AND l.entity_id = (SELECT id FROM appt WHERE k = 'later')::text),
          0::bigint, 'a caller''s own change is not a staff change: not audited');
SELECT tests.set_clinic((SELECT org FROM ctx), 'cancellation_notice_minutes = 0');
SET LOCAL ROLE voxbook_api;
SELECT is(api.cancel_appointment((SELECT id FROM appt WHERE k = 'soon2'), (SELECT org FROM ctx),
                                 patient_phone => '+15553030001')->>'status',
          'cancelled', 'without a notice (the default, 0) a caller may cancel any time');

-- ---- Reschedules keep buffers and providers ----
-- 'later' is a cleaning (60 + 15 after) with cal-a, now 2030-01-21 10:00
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-21 11:00'),
                                'call-r1', 'Bo', '+15553030002')->>'code',
          'slot_taken', 'the moved cleaning keeps its buffer (11:00 is in it)');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-21 11:30'),
                                'call-r2', 'Cy', '+15553030003')->>'success',
          'true', '11:30, after it, is free (a hold that a move below runs into)');
SELECT is(api.check_availability((SELECT org FROM ctx), '2030-01-21', 'cal-a', 'cleaning')->'slots' @>
          jsonb_build_array(jsonb_build_object('time', to_char(tests.at((SELECT org FROM ctx), '2030-01-21 09:00') AT TIME ZONE 'UTC',
                                                               'YYYY-MM-DD"T"HH24:MI:SS"Z"'))),
          false, '09:00 is not offered for another cleaning: its buffer would run into the 10:00 one');
SELECT is(api.reschedule_appointment((SELECT id FROM appt WHERE k = 'later'), (SELECT org FROM ctx),
                                     tests.at((SELECT org FROM ctx), '2030-01-21 10:30'))->>'code',
          'slot_taken', 'moving the cleaning to 10:30, its buffer then overlapping the 11:30 hold, is refused');
SELECT is(api.reschedule_appointment((SELECT id FROM appt WHERE k = 'later'), (SELECT org FROM ctx),
                                     tests.at((SELECT org FROM ctx), '2030-01-21 09:30'))->>'message',
          'Appointment moved', '... moving it earlier, its buffer ending at 10:45, is not');
RESET ROLE;
SELECT is((SELECT upper(h.occupies) - lower(h.occupies) FROM voxbook.appointments AS a
             JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
            WHERE a.id = (SELECT id FROM appt WHERE k = 'later')),
          interval '75 minutes', 'the new hold occupies the cleaning''s 60 minutes and its 15 after');
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE whiten AS
    SELECT pg_temp.book((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-23 10:00'),
                        'Di', '+15553030004', 'teeth-whitening') AS id;
SELECT throws_ok($$SELECT api.reschedule_appointment((SELECT id FROM whiten), (SELECT org FROM ctx),
                                                     tests.at((SELECT org FROM ctx), '2030-01-23 10:00'), 'cal-b')$$,
                 'VB400', 'Dr. Baker does not offer Teeth Whitening', 'a move to a provider who does not offer the service is refused');

-- ---- A hold confirmed as a service needing more buffer than it keeps ----
CREATE TEMP TABLE plain_hold2 AS
    SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-24 14:00'),
                                 'call-m2', 'Flo', '+15553030006', hold_minutes => 10) AS j;
SELECT is(api.confirm_held_slot((SELECT (j->>'hold_id')::uuid FROM plain_hold2), (SELECT org FROM ctx),
                                service_type => 'consultation', staff_user => 'desk')->>'success',
          'true', 'a 30-minute hold confirmed as a 30-minute consultation without buffers');
RESET ROLE;
UPDATE voxbook.services AS s SET duration_minutes = 30, buffer_after_minutes = 15 FROM ctx WHERE s.org_id = ctx.org AND s.id = 'teeth-whitening';
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE plain_hold3 AS
    SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-24 15:00'),
                                 'call-m3', 'Gus', '+15553030007') AS j;
SELECT is(api.confirm_held_slot((SELECT (j->>'hold_id')::uuid FROM plain_hold3), (SELECT org FROM ctx),
                                service_type => 'teeth-whitening', staff_user => 'desk')->>'code',
          'service_mismatch', 'a hold of the same length confirmed as a service whose buffer it does not keep is refused');

-- ---- Two people on one phone number: each appointment shows the name it was booked for ----
SELECT is(api.get_appointment((SELECT id FROM appt WHERE k = 'child'), (SELECT org FROM ctx))->>'patient_name', 'Mia Lee',
          'the child''s appointment is under the child''s name');
SELECT is(api.get_appointment((SELECT id FROM appt WHERE k = 'later'), (SELECT org FROM ctx))->>'patient_name', 'Ann Lee',
          '... the parent''s under the parent''s');
SELECT is((SELECT e->>'patient_name'
             FROM jsonb_path_query(api.dashboard_schedule((SELECT org FROM ctx), '2030-01-20', 1),
                                   '$.days[*].providers[*].entries[*] ? (@.kind == "appointment")') AS e
            WHERE e->>'appointment_id' = (SELECT id FROM appt WHERE k = 'child')::text),
          'Mia Lee', 'the dashboard shows the child''s name');
RESET ROLE;
SELECT is((SELECT count(DISTINCT a.contact_id) FROM voxbook.appointments AS a WHERE a.id IN (SELECT id FROM appt)),
          1::bigint, 'one contact: the phone number (its opt-out is the number''s)');
SELECT alike((SELECT m.body FROM voxbook.sms_outbox AS m
               WHERE m.appointment_id = (SELECT id FROM appt WHERE k = 'child') AND m.kind = 'confirmation'),
             'For Mia Lee: Your appointment is confirmed: Sun, Jan 20 at 10:00 AM with Dr. Baker. Notice Clinic, %. Reply C to confirm or R to reschedule. Call to cancel. Reply STOP to unsubscribe.',
             'the child''s confirmation SMS says whose appointment it is');
SELECT is((SELECT m.body FROM voxbook.sms_outbox AS m
            WHERE m.appointment_id = (SELECT id FROM appt WHERE k = 'soon') AND m.kind = 'confirmation') LIKE 'Your appointment is confirmed:%',
          true, 'the number''s own person gets the usual text');

SELECT * FROM finish();
ROLLBACK;
