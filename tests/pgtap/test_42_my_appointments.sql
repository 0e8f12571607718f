-- Returning callers (db/functions/42_my_appointments.sql): a caller's own appointments found by the trusted caller
-- number, picked by id, position or time, cancelled and moved on the caller's path (the notice holds); from
-- another or a withheld number only after a code to the number on file; the greeting; tenancy.
-- Set-up as the owner, the api calls as the API role; Citus: clinic ids from the temp table ctx.
BEGIN;
SELECT plan(64);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');   -- Monday, 07:00 in New York
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Return Clinic') AS org, tests.create_clinic('Other Clinic') AS other;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
-- Ann's number has two appointments (Wednesday 10:00 with Dr. Able, Friday 14:00 with Dr. Baker) and one soon
-- (today 09:30, inside the notice set below); another number one; the other clinic one for Ann's number.
CREATE TEMP TABLE appt AS
SELECT n, (api.book_for_patient(CASE WHEN n = 5 THEN (SELECT other FROM ctx) ELSE (SELECT org FROM ctx) END,
                                cal, tests.at((SELECT org FROM ctx), t), 'consultation', who, phone,
                                staff_user => 'setup')->>'appointment_id')::uuid AS id
  FROM (VALUES (1, 'cal-a', timestamp '2030-01-16 10:00', 'Ann Lee', '+15554200001'),
               (2, 'cal-b', timestamp '2030-01-18 14:00', 'Ann Lee', '+15554200001'),
               (3, 'cal-a', timestamp '2030-01-14 09:30', 'Ann Lee', '+15554200001'),
               (4, 'cal-a', timestamp '2030-01-17 10:00', 'Bo Diaz', '+15554200002'),
               (5, 'cal-a', timestamp '2030-01-20 10:00', 'Ann Lee', '+15554200001')) AS v(n, cal, t, who, phone);
SELECT is((SELECT count(*) FROM appt WHERE id IS NOT NULL), 5::bigint, 'set-up: five appointments booked');
RESET ROLE;
SELECT tests.set_clinic((SELECT org FROM ctx), $$cancellation_notice_minutes = 1440, max_code_sends = 3, languages = '{en,es}'$$);
SET LOCAL ROLE voxbook_api;

-- ---- from the caller's own number (Vapi's call.customer.number) ----
CREATE TEMP TABLE mine AS SELECT api.find_my_appointments((SELECT org FROM ctx), 'call-1', '+15554200001') AS j;
SELECT is((SELECT j->>'success' FROM mine), 'true', 'the caller''s own number lists its appointments without a code');
SELECT is((SELECT j->>'verified_by' FROM mine), 'caller_id', '... proven by the caller ID');
SELECT is((SELECT jsonb_array_length(j->'appointments') FROM mine), 3, '... the three upcoming ones of this clinic only (not the other clinic''s)');
SELECT is((SELECT j->'appointments'->0->>'appointment_id' FROM mine), (SELECT id::text FROM appt WHERE n = 3), '... soonest first');
SELECT is((SELECT array_agg((e->>'position')::int) FROM mine, jsonb_array_elements(j->'appointments') AS e), ARRAY[1, 2, 3], '... numbered from 1');
SELECT is((SELECT j->'appointments'->1->>'provider' FROM mine), 'Dr. Able', '... with the provider');
SELECT is((SELECT j->'appointments'->1->>'day' FROM mine), 'Wed, Jan 16', '... and the local day');
SELECT ok((SELECT j::text !~ '4200001' FROM mine), '... the number never appears whole');
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-1', '(555) 420-0001')->>'verified_by', 'caller_id',
          'the caller''s number is read in the clinic''s country');
SELECT matches(api.run_tool((SELECT org FROM ctx), 'find_my_appointments',
                            '{"call_id": "call-1", "caller_phone": "+15554200001"}')->'response'->>'spoken',
               '^You have 3 upcoming appointments: .*Wed, Jan 16 at 10:00 AM with Dr. Able.* or ', 'the assistant reads them out');
SELECT matches(api.run_tool((SELECT org FROM ctx), 'find_my_appointments',
                            '{"call_id": "call-1", "caller_phone": "+15554200001", "language": "es"}')->'response'->>'spoken',
               '^Tiene 3 citas próximas: ', '... in the caller''s language');
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-1', '+15554209999')->'appointments', '[]'::jsonb,
          'a number without appointments: an empty list');
SELECT is(api.run_tool((SELECT org FROM ctx), 'find_my_appointments', '{"call_id": "call-1", "caller_phone": "+15554209999"}')->'response'->>'spoken',
          'I don''t see any upcoming appointments under that number.', '... said so');

-- ---- picking the appointment the caller means ----
SELECT is(api.cancel_my_appointment((SELECT org FROM ctx), 'call-1', '+15554200001', at => 'thursday')->>'code', 'not_found',
          'a weekday with no appointment: not_found');
SELECT is(jsonb_array_length(api.cancel_my_appointment((SELECT org FROM ctx), 'call-1', '+15554200001', at => 'thursday')->'appointments'), 3,
          '... with the appointments to offer');
SELECT is(api.cancel_my_appointment((SELECT org FROM ctx), 'call-1', '+15554200001')->>'code', 'ambiguous',
          'nothing said and several appointments: ambiguous');
SELECT matches(api.run_tool((SELECT org FROM ctx), 'cancel_my_appointment', '{"call_id": "call-1", "caller_phone": "+15554200001"}')->'response'->>'spoken',
               '^Which one do you mean: .* or .*\?$', '... the assistant asks which');
SELECT throws_ok($$SELECT api.cancel_my_appointment((SELECT org FROM ctx), 'call-1', '+15554200001', at => 'next-ish')$$,
                 'VB400', 'at is not a date, a time or a weekday', 'an unreadable at is refused');
SELECT throws_ok($$SELECT api.cancel_my_appointment((SELECT org FROM ctx), 'call-1', '+15554200001', which => 0)$$,
                 'VB400', 'which must be a position from 1', 'a position below 1 is refused');
SELECT is(api.cancel_my_appointment((SELECT org FROM ctx), 'call-1', '+15554200001', appointment_id => (SELECT id FROM appt WHERE n = 4))->>'code',
          'not_found', 'another number''s appointment cannot be picked by its id');
SELECT is(api.cancel_my_appointment((SELECT org FROM ctx), 'call-1', '+15554200001', appointment_id => (SELECT id FROM appt WHERE n = 5))->>'code',
          'not_found', '... nor another clinic''s');
RESET ROLE;
SELECT is((SELECT array_agg(a.status ORDER BY a.id) FROM voxbook.appointments AS a WHERE a.id IN (SELECT id FROM appt)),
          ARRAY['confirmed', 'confirmed', 'confirmed', 'confirmed', 'confirmed'], 'nothing was changed by those');
SET LOCAL ROLE voxbook_api;

-- ---- the notice; moving; cancelling ----
SELECT is(api.cancel_my_appointment((SELECT org FROM ctx), 'call-1', '+15554200001', which => 1)->>'code', 'within_notice',
          'the clinic''s cancellation notice holds for a caller');
SELECT is(api.run_tool((SELECT org FROM ctx), 'reschedule_my_appointment',
                       jsonb_build_object('call_id', 'call-1', 'caller_phone', '+15554200001', 'which', 1,
                                          'slot_time', tests.at((SELECT org FROM ctx), '2030-01-21 10:00')))->'response'->'answer'->>'code',
          'within_notice', '... for a move too');
RESET ROLE;
SELECT is((SELECT string_agg(r.kind || ' ' || r.phone || ' ' || r.name || ' ' || (r.appointment_id = (SELECT id FROM appt WHERE n = 3)), ', ')
             FROM voxbook.callback_requests AS r WHERE r.org_id = (SELECT org FROM ctx) AND r.vapi_call_id = 'call-1'),
          'failure +15554200001 Ann Lee true',
          'the tool''s "the front desk can still help" records one callback request for the call: the caller, that appointment');
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE moved AS
    SELECT api.reschedule_my_appointment((SELECT org FROM ctx), tests.at((SELECT org FROM ctx), '2030-01-16 15:00'),
                                         'call-1', '+15554200001', at => 'Wednesday') AS j;
SELECT is((SELECT j->>'success' FROM moved), 'true', 'the Wednesday one is moved ("my Wednesday one")');
SELECT is((SELECT j->>'appointment_id' FROM moved), (SELECT id::text FROM appt WHERE n = 1), '... that appointment');
SELECT is((SELECT (j->>'starts_at')::timestamptz FROM moved), tests.at((SELECT org FROM ctx), '2030-01-16 15:00'), '... to the new time');
SELECT is(api.reschedule_my_appointment((SELECT org FROM ctx), tests.at((SELECT org FROM ctx), '2030-01-17 10:00'),
                                        'call-1', '+15554200001', at => '2030-01-18 14:00', calendar_id => 'cal-a')->>'code',
          'slot_taken', 'a taken time: slot_taken, the appointment keeps its time');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT id FROM appt WHERE n = 1) AND m.kind = 'reschedule'),
          1::bigint, 'the patient is texted about the move');
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE cancelled AS
    SELECT api.run_tool((SELECT org FROM ctx), 'cancel_my_appointment',
                        '{"call_id": "call-1", "caller_phone": "+15554200001", "at": "2030-01-18"}')->'response' AS j;
SELECT is((SELECT j->'answer'->>'status' FROM cancelled), 'cancelled', 'the Friday one is cancelled by its date');
SELECT is((SELECT j->>'spoken' FROM cancelled), 'Your appointment on Fri, Jan 18 at 2:00 PM is cancelled.', '... and said so');
RESET ROLE;
SELECT is((SELECT a.status || ' ' || (a.cancelled_by IS NULL) FROM voxbook.appointments AS a WHERE a.id = (SELECT id FROM appt WHERE n = 2)),
          'cancelled true', 'cancelled on the caller''s path (no staff member)');
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT id FROM appt WHERE n = 2) AND m.kind = 'cancellation'),
          1::bigint, '... with the cancellation text');
SET LOCAL ROLE voxbook_api;

-- ---- from a withheld or another number: a code to the number on file first ----
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-2', NULL)->>'code', 'phone_needed',
          'a withheld number naming none: phone_needed');
SELECT is(api.cancel_my_appointment((SELECT org FROM ctx), 'call-2', '+15554200002', phone => '+15554200001', which => 1)->>'code',
          'verification_required', 'another number may not cancel before the code');
CREATE TEMP TABLE asked AS SELECT api.find_my_appointments((SELECT org FROM ctx), 'call-2', '+15554200002', phone => '+15554200001') AS j;
SELECT is((SELECT j->>'code' FROM asked), 'verification_required', 'another number naming Ann''s: a code first');
SELECT is((SELECT j->>'code_sent' FROM asked), 'true', '... texted');
SELECT ok((SELECT NOT j ? 'appointments' FROM asked), '... and nothing read out');
RESET ROLE;
CREATE TEMP TABLE code2 AS
    SELECT substring(m.body FROM '^([0-9]{4,8}) ') AS code, m.recipient::text AS recipient, m.hold_id, m.redact_after_send
      FROM voxbook.sms_outbox AS m
     WHERE m.org_id = (SELECT org FROM ctx) AND m.kind = 'otp' AND m.status = 'queued';
SELECT tests.share_with_api();
SELECT is((SELECT recipient || ' ' || (hold_id IS NULL) || ' ' || redact_after_send FROM code2), '+15554200001 true true',
          'the code goes to THAT number (not the caller''s), redacted once sent');
SELECT ok((SELECT v.otp_hash = hmac(v.otp_salt || convert_to((SELECT code FROM code2), 'UTF8'),
                                     convert_to(current_setting('voxbook.code_pepper'), 'UTF8'), 'sha256')
             FROM voxbook.caller_verifications AS v WHERE v.org_id = (SELECT org FROM ctx) AND v.vapi_call_id = 'call-2'),
          'only an HMAC of the code keyed by the pepper is stored');
SET LOCAL ROLE voxbook_api;
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-2', '+15554200002', phone => '+15554200001', code => 'abc')->>'code',
          'malformed_code', 'not digits: malformed_code');
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-2', '+15554200002', phone => '+15554200001',
                                   code => (SELECT CASE WHEN code = '000000' THEN '111111' ELSE '000000' END FROM code2))->>'retries_left',
          '2', 'a wrong code: retries_left 2 (the malformed one cost nothing)');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.code_events AS e WHERE e.org_id = (SELECT org FROM ctx) AND e.vapi_call_id = 'call-2' AND e.hold_id IS NULL),
          2::bigint, 'the send and the wrong guess count in the sliding windows');
SET LOCAL ROLE voxbook_api;
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-3', NULL, phone => '+15554200001', code => (SELECT code FROM code2))->>'code',
          'no_code', 'the code proves nothing on another call');
CREATE TEMP TABLE proven AS
    SELECT api.find_my_appointments((SELECT org FROM ctx), 'call-2', '+15554200002', phone => '+15554200001', code => (SELECT code FROM code2)) AS j;
SELECT is((SELECT j->>'verified_by' FROM proven), 'code', 'the right code lists the appointments');
SELECT is((SELECT jsonb_array_length(j->'appointments') FROM proven), 2, '... the two upcoming ones');
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-2', '+15554200002', phone => '+15554200001')->>'verified_by',
          'code', 'the number stays proven for the call');
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-2', '+15554200002', phone => '+15554200001', code => (SELECT code FROM code2))->>'success',
          'true', '... the code is spent (read again: still proven)');
SELECT is(api.cancel_my_appointment((SELECT org FROM ctx), 'call-2', '+15554200002', phone => '+15554200001', which => 2)->>'status',
          'cancelled', 'then the call may cancel');
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-9', NULL, phone => '+15554200001')->>'code',
          'verification_required', 'a withheld caller naming the number gets a code too');

-- ---- limits ----
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-4', NULL, phone => '+15554209999')->>'code',
          'verification_required', 'a number without appointments: the same answer (nothing told to a stranger)');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m WHERE m.org_id = (SELECT org FROM ctx) AND m.recipient = '+15554209999'),
          0::bigint, '... but no text is sent to it');
SET LOCAL ROLE voxbook_api;
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-5', NULL, phone => '+442079460000')->>'code',
          'destination_not_allowed', 'codes only to the clinic''s countries');
SELECT is((SELECT array_agg(api.find_my_appointments((SELECT org FROM ctx), 'call-6', NULL, phone => '+15554200002')->>'code' ORDER BY n)
             FROM generate_series(1, 4) AS n),
          ARRAY['verification_required', 'verification_required', 'verification_required', 'resend_limit'],
          'max_code_sends codes per call and number, then resend_limit');
SELECT is((SELECT array_agg(api.find_my_appointments((SELECT org FROM ctx), 'call-6', NULL, phone => '+15554200002', code => 'x' || n)->>'code' ORDER BY n)
             FROM generate_series(1, 1) AS n), ARRAY['malformed_code'], 'set-up: guesses below');
SELECT is((SELECT array_agg(api.find_my_appointments((SELECT org FROM ctx), 'call-6', NULL, phone => '+15554200002', code => '00000' || n)->>'code' ORDER BY n)
             FROM generate_series(1, 4) AS n),
          ARRAY['wrong_code', 'wrong_code', 'attempts_exhausted', 'no_code'], 'max_code_attempts guesses, then the code is dead');
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-9', NULL, phone => '+15554200001', code => '123456')->>'code',
          'wrong_code', 'set-up: a live code on call-9');
SELECT tests.freeze_time('2030-01-14 12:11:00+00');
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-9', NULL, phone => '+15554200001', code => '123456')->>'code',
          'code_expired', 'a code lives 10 minutes');

-- ---- the greeting ----
SELECT is(api.caller_greeting((SELECT org FROM ctx), '+15554200002'),
          '{"success": true, "known": true, "first_name": "Bo", "next_appointment": {"day": "Thu, Jan 17", "starts_at": "2030-01-17T15:00:00Z", "spoken_time": "10 AM"}}'::jsonb,
          'a returning caller: first name and next appointment, nothing more');
SELECT is(api.caller_greeting((SELECT org FROM ctx), 'anonymous'), '{"success": true, "known": false}'::jsonb,
          'a withheld number is nobody known, not an error');
SELECT is(api.caller_greeting((SELECT other FROM ctx), '+15554200002')->>'known', 'false', 'another clinic knows nothing of it');
SELECT throws_ok($$SELECT api.caller_greeting('00000000-0000-0000-0000-000000000000', '+15554200002')$$,
                 'VB404', NULL, 'an unknown clinic: VB404');

SELECT * FROM finish();
ROLLBACK;
