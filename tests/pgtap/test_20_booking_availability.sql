-- Availability: local wall-clock slots, right across DST changes, minus whatever is taken. The api calls
-- run as the API role; the clinic's settings are changed as the owner.
BEGIN;
SELECT plan(23);

SELECT tests.freeze_time('2030-03-01 12:00:00+00');
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Avail Clinic') AS org;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

-- 2030-03-10 is the spring-forward Sunday in New York; 2030-11-03 the fall-back one.
SELECT is(api.check_availability((SELECT org FROM ctx), '2030-03-09', 'cal-a')->'slots'->0->>'time', '2030-03-09T14:00:00Z',
          '09:00 EST is 14:00 UTC the day before the change');
SELECT is(api.check_availability((SELECT org FROM ctx), '2030-03-10', 'cal-a')->'slots'->0->>'time', '2030-03-10T13:00:00Z',
          '09:00 EDT is 13:00 UTC on the day of the change');
SELECT is(api.check_availability((SELECT org FROM ctx), '2030-11-03', 'cal-a')->'slots'->0->>'time', '2030-11-03T14:00:00Z',
          '09:00 EST is 14:00 UTC again on the fall-back day');
SELECT is((SELECT array_agg(jsonb_array_length(api.check_availability((SELECT org FROM ctx), d::date)->'slots') ORDER BY d)
             FROM generate_series('2030-03-09'::date, '2030-03-11'::date, interval '1 day') AS d),
          ARRAY[28, 28, 28], 'every day has its 14 slots per provider, the short DST day included');
SELECT is(api.check_availability((SELECT org FROM ctx), '2030-03-10', 'cal-a')->'slots'->-1->>'spoken_time', '4:30 PM',
          'the last slot is 4:30 PM local time, spoken as such');
SELECT is(jsonb_array_length(api.check_availability((SELECT org FROM ctx), '2030-03-12', 'cal-a', 'cleaning')->'slots'), 12,
          'a one-hour service fits 12 times around the lunch break');
SELECT is(jsonb_array_length(api.check_availability((SELECT org FROM ctx), '2030-03-12', days => 3)->'slots'), 84,
          'a range of days returns every day''s slots');

-- what a voice offers: a few times spread over the day, and whether there are more
SELECT is((SELECT array_agg(s->>'spoken_time') FROM jsonb_array_elements(api.check_availability((SELECT org FROM ctx), '2030-03-12', 'cal-a', spread => 3)->'slots') AS s),
          ARRAY['9 AM', '1:30 PM', '4:30 PM'], 'spread => 3: the first, the middle and the last free time');
SELECT is(api.check_availability((SELECT org FROM ctx), '2030-03-12', 'cal-a', spread => 3)->'more', 'true', 'and says there are more');
SELECT is((SELECT array_agg(s->>'spoken_time') FROM jsonb_array_elements(api.check_availability((SELECT org FROM ctx), '2030-03-12', 'cal-a', spread => 1)->'slots') AS s),
          ARRAY['9 AM'], 'spread => 1: the first');
SELECT is(api.check_availability((SELECT org FROM ctx), '2030-03-12', 'cal-a', max_slots => 2)->'more', 'true', 'max_slots says when it left times out');
SELECT is(api.check_availability((SELECT org FROM ctx), '2030-03-12', 'cal-a', max_slots => 14)->'more', 'false', 'and not when it did not');
SELECT is(jsonb_array_length(api.check_availability((SELECT org FROM ctx), '2030-03-12', 'cal-a', spread => 50)->'slots'), 14,
          'a spread wider than the day is the whole day');
SELECT throws_ok($$SELECT api.check_availability((SELECT org FROM ctx), '2030-03-12', spread => 0)$$, 'VB400', 'spread must be between 1 and 100', 'a silly spread is refused');

-- a time zone where the change happens at another date
RESET ROLE;
SELECT tests.set_clinic((SELECT org FROM ctx), $$time_zone = 'Europe/London'$$);
SET LOCAL ROLE voxbook_api;
SELECT is(api.check_availability((SELECT org FROM ctx), '2030-03-30', 'cal-a')->'slots'->0->>'time', '2030-03-30T09:00:00Z',
          'London: 09:00 GMT before its change');
SELECT is(api.check_availability((SELECT org FROM ctx), '2030-03-31', 'cal-a')->'slots'->0->>'time', '2030-03-31T08:00:00Z',
          'London: 09:00 BST after its change');
RESET ROLE;
SELECT tests.set_clinic((SELECT org FROM ctx), $$time_zone = 'America/New_York'$$);
SET LOCAL ROLE voxbook_api;

-- what is taken is not offered
SELECT tests.freeze_time('2030-03-12 14:45:00+00');   -- 10:45 EDT
SELECT lives_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-03-12 13:00'), 'c1', 'A', '+15557010001')$$, 'hold 13:00');
SELECT lives_ok($$SELECT api.confirm_held_slot((api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-03-12 14:00'), 'c2', 'B', '+15557010002')->>'hold_id')::uuid, (SELECT org FROM ctx), staff_user => 'desk')$$,
                'book 14:00');
RESET ROLE;
INSERT INTO voxbook.blocked_periods (org_id, calendar_id, during)   -- INSERT ... SELECT: Citus takes no subquery in VALUES
SELECT ctx.org, 'cal-a', tstzrange(tests.at(ctx.org, '2030-03-12 15:00'), tests.at(ctx.org, '2030-03-12 16:00')) FROM ctx;
SET LOCAL ROLE voxbook_api;
SELECT is((SELECT array_agg(s->>'spoken_time') FROM jsonb_array_elements(api.check_availability((SELECT org FROM ctx), '2030-03-12', 'cal-a')->'slots') AS s),
          ARRAY['11 AM', '11:30 AM', '1:30 PM', '2:30 PM', '4 PM', '4:30 PM'],
          'past, held, booked and blocked times are left out');
SELECT tests.freeze_time('2030-03-12 14:45:00+00');
SELECT is((SELECT count(*) FROM jsonb_array_elements(api.check_availability((SELECT org FROM ctx), '2030-03-13')->'slots') AS s
            WHERE (api.claim_slot_atomic((SELECT org FROM ctx), s->>'calendar_id', (s->>'time')::timestamptz, 'all-' || (s->>'calendar_id') || (s->>'time'))->>'success')::boolean),
          28::bigint, 'every slot offered can be claimed');
SELECT is(jsonb_array_length(api.check_availability((SELECT org FROM ctx), '2030-03-13')->'slots'), 0, 'and then none is offered');
SELECT throws_ok($$SELECT api.check_availability((SELECT org FROM ctx), '2030-03-13', 'cal-zz')$$, 'VB404', 'unknown calendar', 'an unknown calendar is refused');
SELECT throws_ok($$SELECT api.check_availability((SELECT org FROM ctx), '2030-03-13', days => 0)$$, 'VB400', 'days must be between 1 and 62', 'a silly range is refused');

SELECT * FROM finish();
ROLLBACK;
