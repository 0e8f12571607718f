-- api.claim_slot_atomic and api.release_hold: one winner per time, clear refusals, nothing written on bad input.
-- The api calls run as the API role (voxbook_api); set-up and direct table reads and writes as the owner.
-- Citus (tests/citus runs this file on a coordinator): clinic ids come from the temp table ctx, which
-- stays on the coordinator. So a helper reading a table (tests.at) is called on ctx's row, never per row of
-- a clinic table; an INSERT takes INSERT ... SELECT FROM ctx, and a clinic's settings change through
-- tests.set_clinic.
BEGIN;
SELECT plan(43);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');   -- Monday, 07:00 in New York
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic() AS org, tests.create_clinic() AS other;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE r1 AS
    SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 10:00'),
                                 'call-1', 'Ann Lee', '+1 (555) 201-0001') AS j;

SELECT is((SELECT j->>'success' FROM r1), 'true', 'a free slot is claimed');
SELECT is((SELECT j->>'starts_at' FROM r1), '2030-01-15T15:00:00Z', 'the slot is stored as its UTC instant');
SELECT is((SELECT (j->>'expires_at')::timestamptz FROM r1), '2030-01-14 12:10:00+00'::timestamptz,
          'the hold lasts the clinic''s 10 minutes');
SELECT is((SELECT (j->>'ends_at')::timestamptz - (j->>'starts_at')::timestamptz FROM r1), interval '30 minutes',
          'the hold covers the calendar''s default duration');
RESET ROLE;
SELECT is((SELECT h.patient_phone::text FROM voxbook.holds AS h WHERE h.id = (SELECT (j->>'hold_id')::uuid FROM r1)),
          '+15552010001', 'the phone is normalised to E.164');
SET LOCAL ROLE voxbook_api;
SELECT is((SELECT j->>'spoken_time' FROM r1), '10 AM', 'the time is spoken in the clinic''s zone');

SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 10:00'),
                                'call-2', 'Bob', '+15552010002') - 'slot_time' - 'calendar_id' - 'alternatives',
          '{"success": false, "code": "slot_taken", "error": "Slot already held"}'::jsonb,
          'a held slot is refused to another call');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 09:30'),
                                'call-3', 'Cy', '+15552010003', service => 'cleaning')->>'code',
          'slot_taken', 'a longer service overlapping the held time is refused');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 10:30'),
                                'call-4', 'Di', '+15552010004')->>'success',
          'true', 'back-to-back slots touch without overlapping');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-15 10:00'),
                                'call-5', 'Ed', '+15552010005')->>'success',
          'true', 'the same time on another calendar is free');
SELECT is(api.claim_slot_atomic((SELECT other FROM ctx), 'cal-a', tests.at((SELECT other FROM ctx), '2030-01-15 10:00'),
                                'call-1', 'Ann Lee', '+15552010001')->>'success',
          'true', 'the same calendar id in another clinic is another calendar');

SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 10:00'),
                                'call-1', 'Ann Lee', '+15552010001')->>'hold_id',
          (SELECT j->>'hold_id' FROM r1), 'a redelivered claim of the same call returns the same hold');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.holds AS h WHERE h.org_id = (SELECT org FROM ctx) AND h.vapi_call_id = 'call-1'),
          1::bigint, '... and makes no second hold');

SET LOCAL ROLE voxbook_api;
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 11:00'),
                                'call-4', 'Di', '+15552010004')->>'success', 'true', 'a call may change its mind');
RESET ROLE;
SELECT is((SELECT h.status FROM voxbook.holds AS h
            WHERE h.org_id = (SELECT org FROM ctx) AND h.vapi_call_id = 'call-4'
              AND h.starts_at = (SELECT tests.at(ctx.org, '2030-01-15 10:30') FROM ctx)),
          'released', '... and then its previous hold is released: one hold per call');
SET LOCAL ROLE voxbook_api;
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 10:30'),
                                'call-4', 'Di', '+15552010004', service => 'cleaning')->>'success', 'true',
          'a call may move to a longer time overlapping its own hold');
RESET ROLE;
SELECT is((SELECT h.status FROM voxbook.holds AS h
            WHERE h.org_id = (SELECT org FROM ctx) AND h.vapi_call_id = 'call-4'
              AND h.starts_at = (SELECT tests.at(ctx.org, '2030-01-15 11:00') FROM ctx)),
          'released', '... its own hold gives way instead of blocking it');

SET LOCAL ROLE voxbook_api;
-- release
SELECT is(api.release_hold((SELECT (j->>'hold_id')::uuid FROM ctx, r1), (SELECT org FROM ctx))->>'status', 'released',
          'release_hold frees a live hold');
SELECT is(api.release_hold((SELECT (j->>'hold_id')::uuid FROM ctx, r1), (SELECT org FROM ctx))->>'success', 'true',
          'releasing twice is harmless');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 10:00'),
                                'call-7', 'Flo', '+15552010007')->>'success', 'true', 'a released time can be claimed again');

-- expiry: call-7 holds 10:00 until 12:10
SELECT tests.freeze_time('2030-01-14 12:10:00+00');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 10:00'),
                                'call-8', 'Gus', '+15552010008')->>'success', 'true', 'an expired hold never blocks a new claim');
RESET ROLE;
SELECT is((SELECT h.status FROM voxbook.holds AS h WHERE h.org_id = (SELECT org FROM ctx) AND h.vapi_call_id = 'call-7'),
          'expired', '... and the claim itself marks it expired');
SET LOCAL ROLE voxbook_api;
SELECT tests.freeze_time('2030-01-14 12:00:00+00');

RESET ROLE;
-- bad input: a documented SQLSTATE, and nothing written
CREATE TEMP TABLE before AS SELECT count(*) AS n FROM voxbook.holds;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', '2030-01-14 11:30:00+00', 'x', 'X', '+15552010009')$$,
                 'VB400', 'slot is in the past', 'a slot in the past is refused');
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 12:00'), 'x', 'X', '+15552010009')$$,
                 'VB400', 'slot is outside Dr. Able''s working hours', 'a slot in the lunch break is refused');
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 13:15'), 'x', 'X', '+15552010009', service => 'consultation')$$,
                 'VB400', 'slot is not on the 30-minute grid of Dr. Able', 'a misaligned slot is refused');
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 11:30'), 'x', 'X', '+15552010009', service => 'cleaning')$$,
                 'VB400', 'slot is outside Dr. Able''s working hours', 'a service running into the break is refused');
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 13:00'), 'x', 'X', '+1-555-1234')$$,
                 'VB400', 'malformed phone number', 'a malformed phone is refused');
SELECT throws_ok($$SELECT api.claim_slot_atomic('00000000-0000-0000-0000-00000000beef', 'cal-a', '2030-01-15 15:00:00+00', 'x')$$,
                 'VB404', 'unknown organization', 'an unknown clinic is refused');
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-zz', '2030-01-15 15:00:00+00', 'x')$$,
                 'VB404', 'unknown calendar', 'an unknown calendar is refused');
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 13:00'), 'x', service => 'tattoo')$$,
                 'VB404', 'unknown service', 'an unknown service is refused');
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', NULL, 'x')$$,
                 'VB400', 'slot_time is required', 'a missing slot is refused');
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 13:00'), 'x', hold_minutes => 0)$$,
                 'VB400', 'hold_minutes must be between 1 and 60', 'a silly hold length is refused');
RESET ROLE;
INSERT INTO voxbook.blocked_periods (org_id, calendar_id, during, reason)   -- INSERT ... SELECT (see the top)
SELECT ctx.org, 'cal-b', tstzrange(tests.at(ctx.org, '2030-01-16 00:00'), tests.at(ctx.org, '2030-01-17 00:00')), 'vacation'
  FROM ctx;
SET LOCAL ROLE voxbook_api;
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-16 10:00'), 'x')$$,
                 'VB400', 'Dr. Baker is not available then', 'a blocked period is refused');
RESET ROLE;
SELECT tests.set_clinic((SELECT other FROM ctx), 'min_notice_minutes = 180');
SET LOCAL ROLE voxbook_api;
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT other FROM ctx), 'cal-a', tests.at((SELECT other FROM ctx), '2030-01-14 09:00'), 'x')$$,
                 'VB400', 'slot is too soon: bookings need 180 minutes notice', 'a slot inside the notice period is refused');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.holds), (SELECT n FROM before), 'none of the refused claims wrote anything');

SET LOCAL ROLE voxbook_api;
-- confirming keeps the held time: a service of another length is refused (issue 10 item 2: a
-- 30-minute consultation confirmed as a 60-minute cleaning held only 30 minutes of it)
CREATE TEMP TABLE mm AS
SELECT (api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-17 10:00'),
                              'mm-1', 'Mo', '+15552020001', service => 'consultation')->>'hold_id')::uuid AS hold;
SELECT is(api.send_otp_code((SELECT hold FROM mm), (SELECT org FROM ctx))->>'success', 'true', 'a code is sent for the consultation''s hold');
CREATE TEMP TABLE mm_code AS SELECT tests.code_of((SELECT hold FROM mm)) AS code;
SELECT is(api.verify_otp((SELECT hold FROM mm), (SELECT org FROM ctx), (SELECT code FROM mm_code), service => 'cleaning')
              - 'error' - 'hold_id',
          '{"success": false, "code": "service_mismatch", "service": "cleaning", "held_minutes": 30, "service_minutes": 60}'::jsonb,
          'the right code with a longer service is refused: reserve a time for that service');
RESET ROLE;
SELECT ok((SELECT NOT EXISTS (SELECT 1 FROM voxbook.appointments AS a WHERE a.org_id = h.org_id AND a.hold_id = h.id)
                  AND h.status = 'held' AND h.ends_at - h.starts_at = interval '30 minutes'
             FROM voxbook.holds AS h WHERE h.org_id = (SELECT org FROM ctx) AND h.id = (SELECT hold FROM mm)),
          '... no appointment is made and the hold keeps its time');
SET LOCAL ROLE voxbook_api;
SELECT is(api.confirm_held_slot((SELECT hold FROM mm), (SELECT org FROM ctx), service_type => 'Cleaning', staff_user => 'desk')->>'code',
          'service_mismatch', 'the staff path refuses it too');
CREATE TEMP TABLE mm_ok AS
SELECT api.verify_otp((SELECT hold FROM mm), (SELECT org FROM ctx), (SELECT code FROM mm_code)) AS j;
SELECT is((SELECT (j->>'service', (j->>'ends_at')::timestamptz - (j->>'starts_at')::timestamptz)::text FROM mm_ok),
          '(consultation,00:30:00)', 'confirmed as reserved, it is the 30-minute consultation');
SELECT is(api.confirm_held_slot(
              (api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-17 13:00'),
                                     'mm-2', 'Mo', '+15552020002')->>'hold_id')::uuid,
              (SELECT org FROM ctx), service_type => 'consultation', staff_user => 'desk')->>'service',
          'consultation', 'a hold of the calendar''s 30 minutes may be named a 30-minute service at confirmation');
SELECT is(api.confirm_held_slot(
              (api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-17 14:00'),
                                     'mm-3', 'Mo', '+15552020003', service => 'cleaning')->>'hold_id')::uuid,
              (SELECT org FROM ctx), service_type => 'teeth-whitening', staff_user => 'desk')->>'service',
          'teeth-whitening', 'a service of the same length replaces the held one');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.holds AS a JOIN voxbook.holds AS b
              ON a.org_id = b.org_id AND a.calendar_id = b.calendar_id AND a.id < b.id
             AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
            WHERE a.org_id = (SELECT org FROM ctx) AND a.status IN ('held', 'confirmed') AND b.status IN ('held', 'confirmed')),
          0::bigint, 'and no two claims overlap');

SELECT * FROM finish();
ROLLBACK;
