-- The other times a lost race offers (internal.alternatives over internal.free_slots, 20_booking.sql): carried
-- in the slot_taken refusal of api.claim_slot_atomic and api.reschedule_appointment, the two free times of
-- that local day nearest to the one lost, any calendar, the same service, one per spoken time, in time order.
-- Run as the API role.
BEGIN;
SELECT plan(14);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');   -- Monday, 07:00 in New York
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic() AS org;
CREATE FUNCTION pg_temp.claim(cal text, local_time timestamp, call text, service text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql AS $$
    SELECT api.claim_slot_atomic((SELECT org FROM ctx), cal, tests.at((SELECT org FROM ctx), local_time), call,
                                 'Pat', '+15552010009', service => service)
$$;
-- The alternatives as "HH:MI calendar" (local), e.g. '09:30 cal-a'.
CREATE FUNCTION pg_temp.offered(refusal jsonb) RETURNS text[]
    LANGUAGE sql AS $$
    SELECT coalesce(array_agg(to_char((a->>'time')::timestamptz AT TIME ZONE 'America/New_York', 'HH24:MI')
                              || ' ' || (a->>'calendar_id') ORDER BY n), '{}')
      FROM jsonb_array_elements(refusal->'alternatives') WITH ORDINALITY AS x(a, n)
$$;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

-- 10:00 taken on both calendars: 9:30 and 10:30 are nearest, each free on both calendars, offered once.
CREATE TEMP TABLE won1 AS SELECT pg_temp.claim('cal-a', '2030-01-15 10:00', 'w-1') AS a, pg_temp.claim('cal-b', '2030-01-15 10:00', 'w-2');
CREATE TEMP TABLE lost1 AS SELECT pg_temp.claim('cal-a', '2030-01-15 10:00', 'l-1') AS j;
SELECT is((SELECT j->>'code' FROM lost1), 'slot_taken', 'the third caller loses the race');
SELECT is((SELECT pg_temp.offered(j) FROM lost1), ARRAY['09:30 cal-a', '10:30 cal-a'],
          'and is offered the two nearest times, one per spoken time, in time order');
SELECT is((SELECT j->'alternatives'->0 FROM lost1),
          jsonb_build_object('time', '2030-01-15T14:30:00Z', 'calendar_id', 'cal-a', 'provider', 'Dr. Able',
                             'spoken_time', '9:30 AM', 'local_time', 'Tue, Jan 15 at 9:30 AM'),
          'each with its time, calendar, provider and how to say it');
SELECT ok((SELECT bool_and(a IN (SELECT s - 'ends_at' FROM jsonb_array_elements(
               api.check_availability((SELECT org FROM ctx), '2030-01-15')->'slots') AS s))
             FROM lost1, jsonb_array_elements(j->'alternatives') AS a),
          'every alternative is a slot check_availability lists, field for field');

-- Nearest first, a tie to the earlier: 9:30 taken too leaves 10:30 (30 min away), then 9:00 and 11:00 (60 min).
CREATE TEMP TABLE won2 AS SELECT pg_temp.claim('cal-a', '2030-01-15 09:30', 'w-3') AS a, pg_temp.claim('cal-b', '2030-01-15 09:30', 'w-4');
SELECT is(pg_temp.offered(pg_temp.claim('cal-a', '2030-01-15 10:00', 'l-2')), ARRAY['09:00 cal-a', '10:30 cal-a'],
          'the nearest, then the earlier of two equally near');

-- Any calendar: with cal-a taken at 10:30, Dr. Baker's 10:30 is the offer.
CREATE TEMP TABLE won3 AS SELECT pg_temp.claim('cal-a', '2030-01-15 10:30', 'w-5');
SELECT is(pg_temp.offered(pg_temp.claim('cal-a', '2030-01-15 10:00', 'l-3')), ARRAY['09:00 cal-a', '10:30 cal-b'],
          'a time free only with another provider is offered with that provider');
SELECT is(pg_temp.claim('cal-a', '2030-01-15 10:00', 'l-3')->'alternatives'->1->>'provider', 'Dr. Baker',
          'who is named');

-- The same service: a cleaning (60 minutes) lost at 11:00 on Wednesday. 30-minute times would be 10:30 and
-- 11:30; a cleaning fits neither (10:30 runs into the 11:00 holds, 11:30 into lunch).
CREATE TEMP TABLE won4 AS
    SELECT pg_temp.claim('cal-a', '2030-01-16 11:00', 'w-6', 'cleaning') AS a, pg_temp.claim('cal-b', '2030-01-16 11:00', 'w-7');
SELECT is(pg_temp.offered(pg_temp.claim('cal-a', '2030-01-16 11:00', 'l-4', 'cleaning')), ARRAY['09:30 cal-a', '10:00 cal-a'],
          'the times offered fit the service asked for');
SELECT is(pg_temp.offered(pg_temp.claim('cal-a', '2030-01-16 11:00', 'l-5')), ARRAY['10:30 cal-a', '11:30 cal-b'],
          'and without a service, the calendar''s default length');

-- Only that local day: Thursday taken from end to end offers nothing, though Wednesday and Friday are free.
CREATE TEMP TABLE full_day AS SELECT count(pg_temp.claim(s->>'calendar_id', ((s->>'time')::timestamptz AT TIME ZONE 'America/New_York'), 'fill-' || n))
  FROM jsonb_array_elements(api.check_availability((SELECT org FROM ctx), '2030-01-17')->'slots') WITH ORDINALITY AS x(s, n);
SELECT is(pg_temp.claim('cal-a', '2030-01-17 09:00', 'l-6')->'alternatives', '[]'::jsonb,
          'a full day offers no other time, and none of another day');

-- The fast path is unchanged: a claim that wins carries no alternatives.
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(pg_temp.claim('cal-b', '2030-01-15 11:00', 'w-8')) AS k),
          ARRAY['calendar_id', 'ends_at', 'expires_at', 'hold_id', 'local_time', 'message', 'provider', 'spoken_time',
                'starts_at', 'status', 'success'],
          'a won claim has its usual shape');

-- A reschedule onto a taken time carries the same offer, and the calendar it tried.
CREATE TEMP TABLE appt AS
    SELECT (api.confirm_held_slot((pg_temp.claim('cal-b', '2030-01-15 15:00', 'a-1')->>'hold_id')::uuid,
                                  (SELECT org FROM ctx), staff_user => 'desk')->>'appointment_id')::uuid AS id;
CREATE TEMP TABLE moved AS
    SELECT api.reschedule_appointment((SELECT id FROM appt), (SELECT org FROM ctx),
                                      tests.at((SELECT org FROM ctx), '2030-01-15 10:00'), 'cal-a') AS j;
SELECT is((SELECT j->>'code' || ' ' || (j->>'calendar_id') FROM moved), 'slot_taken cal-a',
          'a reschedule onto a taken time is refused, naming the calendar it tried');
SELECT is((SELECT pg_temp.offered(j) FROM moved), ARRAY['09:00 cal-a', '10:30 cal-b'],
          'with the nearest free times of that day');
RESET ROLE;
SELECT is((SELECT to_char(h.starts_at AT TIME ZONE 'America/New_York', 'HH24:MI') FROM voxbook.appointments AS a
             JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id WHERE a.id = (SELECT id FROM appt)),
          '15:00', 'and the appointment keeps its time');

SELECT * FROM finish();
ROLLBACK;
