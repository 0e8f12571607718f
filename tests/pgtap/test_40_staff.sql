-- Staff-facing booking functions (issue 14): api.book_for_patient, api.list_appointments, api.find_patient,
-- api.list_problem_sms. Happy paths, every error, tenancy, the API role's privileges.
-- Set-up as the owner, the api calls as the API role; Citus: clinic ids from the temp table ctx.
BEGIN;
SELECT plan(41);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');   -- Monday, 07:00 in New York
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Staff Clinic') AS org, tests.create_clinic('Other Clinic') AS other;
UPDATE voxbook.services AS s SET buffer_after_minutes = 10 FROM ctx WHERE s.org_id = ctx.org AND s.id = 'cleaning';
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

-- ---- api.book_for_patient ----
CREATE TEMP TABLE booked AS
    SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 10:00'),
                                'cleaning', 'Ann Lee', '(555) 404-0001', staff_user => 'Rita') AS j;
SELECT is((SELECT j->>'success' FROM booked), 'true', 'staff book an appointment without a code');
SELECT is((SELECT j->>'status' FROM booked), 'confirmed', '... confirmed at once');
SELECT is((SELECT j->>'confirmed_via' FROM booked), 'staff', '... recorded as staff');
SELECT is((SELECT j->>'booked_by' FROM booked), 'Rita', '... by whom');
SELECT is((SELECT j->>'patient_name' FROM booked), 'Ann Lee', '... for whom');
RESET ROLE;
SELECT is((SELECT a.booked_by || '/' || a.confirmed_by || '/' || a.patient_name FROM voxbook.appointments AS a
            WHERE a.id = (SELECT (j->>'appointment_id')::uuid FROM booked)),
          'Rita/Rita/Ann Lee', 'the appointment row has booked_by, confirmed_by and the name');
SELECT is((SELECT array_agg(m.kind || ':' || m.status ORDER BY m.kind) FROM voxbook.sms_outbox AS m
            WHERE m.appointment_id = (SELECT (j->>'appointment_id')::uuid FROM booked)),
          ARRAY['confirmation:queued', 'reminder:queued'], 'the confirmation and the reminder are queued (the voice flow''s paths)');
SELECT is((SELECT m.recipient::text FROM voxbook.sms_outbox AS m
            WHERE m.appointment_id = (SELECT (j->>'appointment_id')::uuid FROM booked) AND m.kind = 'confirmation'),
          '+15554040001', '... to the patient''s number, read in the clinic''s country');
SELECT is((SELECT h.status || ' ' || (upper(h.occupies) - lower(h.occupies))::text FROM voxbook.holds AS h
            WHERE h.id = (SELECT (j->>'hold_id')::uuid FROM booked)),
          'confirmed 01:10:00', 'its hold is confirmed and occupies the cleaning and its buffer');
SELECT is((SELECT l.action || ':' || l.changed_by || ':' || (l.after->>'patient_name') FROM voxbook.audit_log AS l
            WHERE l.org_id = (SELECT org FROM ctx) AND l.entity_id = (SELECT j->>'appointment_id' FROM booked)),
          'book_for_patient:Rita:Ann Lee', 'the booking is audited');
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE lost AS
    SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 11:00'),
                                'consultation', 'Bo', '+15554040002', staff_user => 'Rita') AS j;
SELECT is((SELECT j->>'code' FROM lost), 'slot_taken', 'the same guarantees as a claim: a time in a booking''s buffer is refused');
SELECT ok((SELECT jsonb_array_length(j->'alternatives') > 0 FROM lost), '... with other times to offer');
SELECT is(api.book_for_patient((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 11:30'),
                               'consultation', 'Mia Lee', '+15554040001', staff_user => 'Rita',
                               changed_by => 'rita@clinic')->>'patient_name',
          'Mia Lee', 'a second person on the same number is booked under her own name');
SELECT throws_ok($$SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-17 10:00'),
                                               NULL, 'Cy', '+15554040003')$$,
                 'VB400', 'staff_user is required', 'staff_user is required');
SELECT throws_ok($$SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-17 10:00'),
                                               NULL, '  ', '+15554040003', staff_user => 'Rita')$$,
                 'VB400', 'patient_name is required', 'patient_name is required');
SELECT throws_ok($$SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-17 10:00'),
                                               NULL, 'Cy', NULL, staff_user => 'Rita')$$,
                 'VB400', 'patient_phone is required', 'patient_phone is required');
SELECT throws_ok($$SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-17 10:00'),
                                               NULL, 'Cy', '12', staff_user => 'Rita')$$,
                 'VB400', 'malformed phone number', 'a malformed phone is refused');
SELECT throws_ok($$SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-17 12:30'),
                                               NULL, 'Cy', '+15554040003', staff_user => 'Rita')$$,
                 'VB400', 'slot is outside Dr. Able''s working hours', 'a time outside working hours is refused');
SELECT throws_ok($$SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-z', tests.at((SELECT org FROM ctx), '2030-01-17 10:00'),
                                               NULL, 'Cy', '+15554040003', staff_user => 'Rita')$$,
                 'VB404', 'unknown calendar', 'an unknown calendar is refused');
SELECT throws_ok($$SELECT api.book_for_patient('00000000-0000-0000-0000-00000000beef', 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-17 10:00'),
                                               NULL, 'Cy', '+15554040003', staff_user => 'Rita')$$,
                 'VB404', 'unknown organization', 'an unknown clinic is refused');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.holds AS h WHERE h.org_id = (SELECT org FROM ctx) AND h.patient_name = 'Cy'),
          0::bigint, 'bad input wrote nothing');
SET LOCAL ROLE voxbook_api;
-- another clinic's booking, for tenancy below
SELECT is(api.book_for_patient((SELECT other FROM ctx), 'cal-a', tests.at((SELECT other FROM ctx), '2030-01-16 10:00'),
                               NULL, 'Zed', '+15554040001', staff_user => 'Other desk')->>'success',
          'true', 'another clinic books the same calendar id, time and number');

-- ---- api.list_appointments ----
SELECT is((SELECT array_agg(a->>'patient_name' ORDER BY a->>'starts_at')
             FROM jsonb_array_elements(api.list_appointments((SELECT org FROM ctx))->'appointments') AS a),
          ARRAY['Ann Lee', 'Mia Lee'], 'the clinic''s upcoming appointments, under the names they were booked for');
SELECT is((SELECT a->>'booked_by' FROM jsonb_array_elements(api.list_appointments((SELECT org FROM ctx))->'appointments') AS a LIMIT 1),
          'Rita', 'with who booked them');
SELECT is(jsonb_array_length(api.list_appointments((SELECT org FROM ctx), tests.at((SELECT org FROM ctx), '2030-01-16 11:00'),
                                                   tests.at((SELECT org FROM ctx), '2030-01-17 00:00'))->'appointments'),
          1, 'a time range');
SELECT is(jsonb_array_length(api.list_appointments((SELECT org FROM ctx), calendar_id => 'cal-b')->'appointments'),
          0, 'one provider');
SELECT is(jsonb_array_length(api.list_appointments((SELECT org FROM ctx), patient_phone => '555-404-0001')->'appointments'),
          2, 'one phone number (as dialled)');
SELECT is(jsonb_array_length(api.list_appointments((SELECT org FROM ctx), status => 'cancelled')->'appointments'),
          0, 'one status');
SELECT is(api.list_appointments((SELECT org FROM ctx), max_rows => 1)->>'more', 'true', 'max_rows cuts, and says so');
SELECT throws_ok($$SELECT api.list_appointments((SELECT org FROM ctx), status => 'held')$$,
                 'VB400', 'status must be confirmed or cancelled', 'an unknown status is refused');
SELECT throws_ok($$SELECT api.list_appointments((SELECT org FROM ctx), '2030-01-20', '2030-01-19')$$,
                 'VB400', 'to_time is before from_time', 'a backwards range is refused');
SELECT throws_ok($$SELECT api.list_appointments((SELECT org FROM ctx), calendar_id => 'cal-z')$$,
                 'VB404', 'unknown calendar', 'an unknown calendar is refused');

-- ---- api.find_patient ----
CREATE TEMP TABLE found AS SELECT api.find_patient((SELECT org FROM ctx), '555 404 0001') AS j;
SELECT is((SELECT array_agg(p->>'name' ORDER BY p->>'name') FROM found, jsonb_array_elements(j->'people') AS p),
          ARRAY['Ann Lee', 'Mia Lee'], 'the people at a number: a parent and a child');
SELECT is((SELECT jsonb_array_length(p->'upcoming') FROM found, jsonb_array_elements(j->'people') AS p WHERE p->>'name' = 'Mia Lee'),
          1, '... each with their own upcoming appointments');
SELECT is(api.find_patient((SELECT org FROM ctx), '+15554049999')->>'found', 'false', 'an unknown number: nobody');
SELECT throws_ok($$SELECT api.find_patient((SELECT org FROM ctx), NULL)$$, 'VB400', 'phone is required', 'phone is required');
SELECT is((SELECT array_agg(p->>'name') FROM jsonb_array_elements(api.find_patient((SELECT other FROM ctx), '+15554040001')->'people') AS p),
          ARRAY['Zed'], 'tenancy: the other clinic sees only its own patient at that number');

-- ---- api.list_problem_sms ----
RESET ROLE;
UPDATE voxbook.sms_outbox AS m SET status = 'failed', error_code = '30006', error_message = 'Landline or unreachable carrier'
  FROM ctx WHERE m.org_id = ctx.org AND m.kind = 'confirmation' AND m.appointment_id = (SELECT (j->>'appointment_id')::uuid FROM booked);
UPDATE voxbook.sms_outbox AS m SET status = 'skipped', skip_reason = 'recipient opted out'
  FROM ctx WHERE m.org_id = ctx.org AND m.kind = 'reminder' AND m.appointment_id = (SELECT (j->>'appointment_id')::uuid FROM booked);
SET LOCAL ROLE voxbook_api;
-- (from 2020: the outbox stamps created_at with the real clock, not the frozen one)
CREATE TEMP TABLE problems AS SELECT api.list_problem_sms((SELECT org FROM ctx), from_time => '2020-01-01') AS j;
SELECT is((SELECT array_agg(m->>'kind' || ':' || (m->>'status') || ':' || (m->>'why') ORDER BY m->>'kind')
             FROM problems, jsonb_array_elements(j->'messages') AS m),
          ARRAY['confirmation:failed:30006: Landline or unreachable carrier', 'reminder:skipped:recipient opted out'],
          'failed and skipped texts, each with why');
SELECT is((SELECT count(*) FROM problems, jsonb_array_elements(j->'messages') AS m
            WHERE m ? 'body' OR m->>'phone_masked' LIKE '%4040001%'),
          0::bigint, 'no bodies, phones masked');
SELECT is(jsonb_array_length(api.list_problem_sms((SELECT other FROM ctx), from_time => '2020-01-01')->'messages'), 0,
          'tenancy: another clinic''s list is its own');

-- ---- privileges: the API role executes these, and reads no table ----
SELECT throws_ok($$SELECT count(*) FROM voxbook.appointments$$, '42501', NULL, 'the API role reads no table directly');

SELECT * FROM finish();
ROLLBACK;
